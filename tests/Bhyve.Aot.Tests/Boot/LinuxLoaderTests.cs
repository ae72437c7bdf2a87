using System.Buffers.Binary;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>LinuxLoader and KernelLoader: where the kernel, initrd and zero page land, and what is refused.</summary>
public sealed class LinuxLoaderTests : IDisposable
{
    private const ulong RamSize = 64 * GuestLayout.MiB;
    private readonly FakeRam _ram = new(RamSize, fill: 0xAA);

    public void Dispose() => _ram.Dispose();

    private static readonly MemoryMapEntry[] Map = GuestLayout.MemoryMap(RamSize);
    private uint ZeroPageU32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_ram.HostSpan(GuestLayout.ZeroPageAddress + (ulong)o, 4));

    [Fact]
    public void A_bzImage_loads_at_its_preferred_address_and_enters_0x200_past_it()
    {
        var b = new BzImageBuilder();
        byte[] file = b.Build();
        var boot = LinuxLoader.LoadBzImage(file, _ram.Memory, Map, "console=ttyS0", [], 0xE0000);
        Assert.Equal(EntryMode.Linux64, boot.Mode);
        Assert.Equal(0x100_0000ul, boot.KernelStart);
        Assert.Equal(0x100_0200ul, boot.Entry);
        Assert.Equal(GuestLayout.ZeroPageAddress, boot.BootData);
        Assert.Equal(file.AsSpan(b.KernelOffset).ToArray(), _ram.HostSpan(0x100_0000, b.KernelLength).ToArray());
        Assert.Equal("console=ttyS0\0", System.Text.Encoding.ASCII.GetString(_ram.HostSpan(GuestLayout.CmdlineAddress, 14)));
        Assert.Equal((uint)GuestLayout.CmdlineAddress, ZeroPageU32(0x228));
        Assert.Equal(0u, ZeroPageU32(0x21C));   // no initrd
    }

    [Fact]
    public void A_relocatable_kernel_asking_for_a_low_address_moves_up_to_its_alignment()
    {
        var boot = LinuxLoader.LoadBzImage(new BzImageBuilder { PrefAddress = 0x1000 }.Build(), _ram.Memory, Map, "", [], 0);
        Assert.Equal(0x20_0000ul, boot.KernelStart);
        var e = Assert.Throws<BootImageException>(() =>
            LinuxLoader.LoadBzImage(new BzImageBuilder { PrefAddress = 0x1000, Relocatable = 0 }.Build(), _ram.Memory, Map, "", [], 0));
        Assert.Contains("below 1 MiB", e.Message);
    }

    [Fact]
    public void The_initrd_goes_high_page_aligned_and_below_initrd_addr_max()
    {
        byte[] initrd = ElfBuilder.Pattern(10_000, 5);
        var boot = LinuxLoader.LoadBzImage(new BzImageBuilder { InitrdAddrMax = 0x2FF_FFFF }.Build(), _ram.Memory, Map, "", initrd, 0);
        ulong at = boot.Extras.InitrdAddress;
        Assert.Equal(0ul, at % 4096);
        Assert.True(at + (ulong)initrd.Length <= 0x300_0000, $"initrd at 0x{at:x} ends above initrd_addr_max");
        Assert.True(at + (ulong)initrd.Length > 0x300_0000 - 4096, "initrd not placed as high as allowed");
        Assert.True(at >= boot.KernelEnd);
        Assert.Equal(initrd, _ram.HostSpan(at, initrd.Length).ToArray());
        Assert.Equal((uint)at, ZeroPageU32(0x218));
        Assert.Equal((uint)initrd.Length, ZeroPageU32(0x21C));
    }

    [Fact]
    public void An_initrd_that_does_not_fit_above_the_kernel_is_refused()
    {
        var e = Assert.Throws<BootImageException>(() =>
            LinuxLoader.LoadBzImage(new BzImageBuilder().Build(), _ram.Memory, Map, "", new byte[60 << 20], 0));
        Assert.Contains("does not fit", e.Message);
    }

    [Fact]
    public void A_kernel_whose_init_size_exceeds_RAM_is_refused()
    {
        var e = Assert.Throws<BootImageException>(() =>
            LinuxLoader.LoadBzImage(new BzImageBuilder { InitSize = 0x400_0000 }.Build(), _ram.Memory, Map, "", [], 0));
        Assert.Contains("needs 0x4000000 bytes of RAM from 0x1000000", e.Message);
    }

    [Fact]
    public void A_command_line_longer_than_cmdline_size_is_refused()
    {
        var e = Assert.Throws<BootImageException>(() =>
            LinuxLoader.LoadBzImage(new BzImageBuilder { CmdlineSize = 10 }.Build(), _ram.Memory, Map, "console=ttyS0 quiet", [], 0));
        Assert.Contains("at most 10", e.Message);
    }

    [Fact]
    public void A_vmlinux_without_PVH_note_enters_at_e_entry_with_a_zero_page()
    {
        var b = ElfBuilder.Bootable();
        b.Segments.RemoveAll(s => s.Type == ElfBuilder.PtNote);
        b.AddNote(ElfBuilder.Note("Linux", 0x100, [1, 2, 3, 4]));
        byte[] file = b.Build();
        Assert.Equal(KernelKind.LinuxElf, KernelKinds.Detect(file));
        var boot = KernelLoader.Load(KernelKind.LinuxElf, file, _ram.Memory, Map, "root=/dev/vda", [9, 9, 9], 0xE0000);
        Assert.Equal(EntryMode.Linux64, boot.Mode);
        Assert.Equal(b.Entry, boot.Entry);
        Assert.Equal(0xAA55, BinaryPrimitives.ReadUInt16LittleEndian(_ram.HostSpan(GuestLayout.ZeroPageAddress + 0x1FE, 2)));
        Assert.Equal(3u, ZeroPageU32(0x21C));
    }

    [Fact]
    public void A_PVH_kernel_gets_its_initrd_as_module_0_and_the_RSDP_in_start_info()
    {
        byte[] file = ElfBuilder.Bootable().Build();
        byte[] initrd = ElfBuilder.Pattern(5000, 1);
        var boot = KernelLoader.Load(KernelKind.PvhElf, file, _ram.Memory, Map, "", initrd, 0xE0000);
        Assert.Equal(EntryMode.Pvh32, boot.Mode);
        var info = _ram.HostSpan(GuestLayout.StartInfoAddress, HvmStartInfo.Size);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(info[12..]));
        Assert.Equal(GuestLayout.PvhModuleListAddress, BinaryPrimitives.ReadUInt64LittleEndian(info[16..]));
        Assert.Equal(0xE0000ul, BinaryPrimitives.ReadUInt64LittleEndian(info[32..]));
        var module = _ram.HostSpan(GuestLayout.PvhModuleListAddress, 32);
        ulong at = BinaryPrimitives.ReadUInt64LittleEndian(module);
        Assert.Equal((ulong)initrd.Length, BinaryPrimitives.ReadUInt64LittleEndian(module[8..]));
        Assert.Equal(initrd, _ram.HostSpan(at, initrd.Length).ToArray());
    }

    [Fact]
    public void Without_an_initrd_a_PVH_kernel_has_no_modules()
    {
        KernelLoader.Load(KernelKind.PvhElf, ElfBuilder.Bootable().Build(), _ram.Memory, Map, "", [], 0);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(_ram.HostSpan(GuestLayout.StartInfoAddress + 12, 4)));
    }
}
