using Bhyve.Aot.Boot;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>Our parsers on Debian's real kernel images (from `make linux-image`), not only on generated ones.</summary>
public class DebianKernelImageTests
{
    [Fact]
    public void Debians_bzImage_parses_as_a_relocatable_64_bit_kernel_with_its_payload_where_the_header_says()
    {
        byte[] file = File.ReadAllBytes(LinuxImage.File("vmlinuz"));
        Assert.Equal(KernelKind.BzImage, KernelKinds.Detect(file));
        var bz = BzImage.Parse(file);
        Assert.True(bz.ProtocolVersion >= 0x020F, $"protocol 0x{bz.ProtocolVersion:x}");
        Assert.True(bz.Relocatable);
        Assert.Equal(0x100_0000ul, bz.PreferredAddress);
        Assert.True(bz.InitSizeValue > (uint)bz.KernelLength);
        Assert.True(bz.MaxCmdline >= 2047);
        // The payload is the compressed vmlinux; Debian's cloud kernel uses LZ4 (legacy frame magic 0x184C2102).
        var payload = file.AsSpan(bz.KernelOffset + (int)bz.Payload, 4).ToArray();
        Assert.Equal(new byte[] { 0x02, 0x21, 0x4C, 0x18 }, payload);
    }

    [Fact]
    public void The_vmlinux_inside_it_has_the_PVH_note()
    {
        byte[] file = File.ReadAllBytes(LinuxImage.File("vmlinux"));
        Assert.Equal(KernelKind.PvhElf, KernelKinds.Detect(file));
        var elf = ElfImage.Parse(file);
        Assert.True(elf.TryFindNote(file, "Xen", PvhLoader.XenElfNotePhys32Entry, out var entry));
        Assert.Contains(entry.Length, new[] { 4, 8 });
        Assert.Contains(elf.Notes, n => n.Name == "Linux");
    }
}
