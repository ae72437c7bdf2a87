using Bhyve.Aot.Boot;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>BzImage.Parse on images generated here: the header fields come out as written; every bad field is refused with a reason.</summary>
public class BzImageTests
{
    [Fact]
    public void A_good_header_is_read_field_by_field()
    {
        var b = new BzImageBuilder { SetupSects = 27, PrefAddress = 0x200_0000, InitSize = 0x40_0000, CmdlineSize = 255, InitrdAddrMax = 0x3FFF_FFFF };
        var bz = BzImage.Parse(b.Build());
        Assert.Equal(0x020F, bz.ProtocolVersion);
        Assert.Equal(27, bz.SetupSectors);
        Assert.Equal(28 * 512, bz.KernelOffset);
        Assert.Equal(b.KernelLength, bz.KernelLength);
        Assert.Equal(0x202 + 0x6A, bz.SetupHeaderEnd);
        Assert.True(bz.Relocatable);
        Assert.Equal(0x20_0000u, bz.Alignment);
        Assert.Equal(0x200_0000ul, bz.PreferredAddress);
        Assert.Equal(0x40_0000u, bz.InitSizeValue);
        Assert.Equal(255u, bz.MaxCmdline);
        Assert.Equal(0x3FFF_FFFFu, bz.InitrdMax);
        Assert.Equal(0x300u, bz.Payload);
    }

    [Fact]
    public void Zero_setup_sectors_means_four()
    {
        var bz = BzImage.Parse(new BzImageBuilder { SetupSects = 0 }.Build());
        Assert.Equal(4, bz.SetupSectors);
        Assert.Equal(5 * 512, bz.KernelOffset);
    }

    [Fact]
    public void Signature_checks_are_separate_from_parsing()
    {
        Assert.True(BzImage.HasSetupHeader(new BzImageBuilder().Build()));
        Assert.False(BzImage.HasSetupHeader(new BzImageBuilder { Magic = 0x1234_5678 }.Build()));
        Assert.False(BzImage.HasSetupHeader(new BzImageBuilder { BootFlag = 0 }.Build()));
        Assert.False(BzImage.HasSetupHeader(new byte[100]));
    }

    public static TheoryData<string, string> BadImages => new()
    {
        { "bootflag", "0xAA55" },
        { "magic", "HdrS" },
        { "version", "too old" },
        { "zimage", "LOADED_HIGH" },
        { "32bit", "XLF_KERNEL_64" },
        { "alignment", "power of two" },
        { "initsize", "init_size" },
        { "payload", "payload" },
        { "shortheader", "setup header ends" },
        { "nokernel", "truncated" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public void Bad_images_are_refused_with_a_reason(string fault, string expected)
    {
        var b = new BzImageBuilder();
        switch (fault)
        {
            case "bootflag": b.BootFlag = 0x1234; break;
            case "magic": b.Magic = 0; break;
            case "version": b.Version = 0x020B; break;
            case "zimage": b.LoadFlags = 0; break;
            case "32bit": b.XLoadFlags = 0; break;
            case "alignment": b.KernelAlignment = 0x30_0000; break;
            case "initsize": b.InitSize = 0x100; break;
            case "payload": b.PayloadOffset = 0x1F00; b.PayloadLength = 0x200; break;
            case "shortheader": b.JumpOffset = 0x20; break;
            case "nokernel": b.KernelLength = 0x100; break;
        }
        var e = Assert.Throws<BootImageException>(() => BzImage.Parse(b.Build()));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Truncated_files_are_refused_without_reading_past_the_end()
    {
        byte[] full = new BzImageBuilder().Build();
        foreach (int length in new[] { 0, 10, 0x200, 0x3FF, 0x400, (4 + 1) * 512 })
            Assert.Throws<BootImageException>(() => BzImage.Parse(full.AsSpan(0, length)));
    }
}
