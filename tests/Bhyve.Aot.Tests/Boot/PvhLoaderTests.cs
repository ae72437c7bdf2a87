using System.Buffers.Binary;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>PvhLoader.Load: a good image lands in RAM as firmware would place it; a bad one is refused before RAM is touched.</summary>
public sealed class PvhLoaderTests : IDisposable
{
    private const ulong RamSize = 8 * GuestLayout.MiB;
    // RAM starts dirty so that zeroing (bss, cmdline terminator, start info padding) is observable.
    private readonly FakeRam _ram = new(RamSize, fill: 0xAA);

    public void Dispose() => _ram.Dispose();

    private PvhBoot Load(byte[] file, string cmdline = "console=ttyS0 hello=world") =>
        PvhLoader.Load(file, _ram.Memory, GuestLayout.MemoryMap(RamSize), cmdline);

    [Fact]
    public void Segments_are_copied_at_their_physical_address_and_bss_is_zeroed()
    {
        var b = ElfBuilder.Bootable();
        var boot = Load(b.Build());

        var text = b.Segments[0];
        var data = b.Segments[1];
        Assert.Equal(text.Data, _ram.HostSpan(text.PhysicalAddress, text.Data.Length).ToArray());
        Assert.Equal(data.Data, _ram.HostSpan(data.PhysicalAddress, data.Data.Length).ToArray());
        // p_memsz - p_filesz bytes of bss follow the data, zeroed.
        var bss = _ram.HostSpan(data.PhysicalAddress + (ulong)data.Data.Length, (int)data.MemorySize - data.Data.Length);
        Assert.True(bss.IndexOfAnyExcept((byte)0) < 0, "bss was not zeroed");
        // The byte past the last segment belongs to nobody: untouched.
        Assert.Equal(0xAA, _ram.HostSpan(data.PhysicalAddress + data.MemorySize, 1)[0]);
        // The gap between text and data is not part of any segment either.
        Assert.Equal(0xAA, _ram.HostSpan(text.PhysicalAddress + text.MemorySize, 1)[0]);

        Assert.Equal((uint)ElfBuilder.KernelBase, boot.Entry);
        Assert.Equal(text.PhysicalAddress, boot.KernelStart);
        Assert.Equal(data.PhysicalAddress + data.MemorySize, boot.KernelEnd);
    }

    [Fact]
    public void Start_info_follows_the_hvm_start_info_v1_layout()
    {
        var boot = Load(ElfBuilder.Bootable().Build(), "exit=3 foo=bar");

        Assert.Equal(GuestLayout.StartInfoAddress, boot.StartInfoAddress);
        var info = _ram.HostSpan(GuestLayout.StartInfoAddress, HvmStartInfo.Size);
        Assert.Equal(0x336E_C578u, BinaryPrimitives.ReadUInt32LittleEndian(info[0..]));   // magic
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(info[4..]));            // version
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info[8..]));            // flags
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info[12..]));           // nr_modules
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(info[16..]));          // modlist_paddr
        Assert.Equal(GuestLayout.CmdlineAddress, BinaryPrimitives.ReadUInt64LittleEndian(info[24..]));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(info[32..]));          // rsdp_paddr
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info[52..]));           // reserved

        // cmdline: the exact bytes, then NUL.
        byte[] expected = "exit=3 foo=bar\0"u8.ToArray();
        Assert.Equal(expected, _ram.HostSpan(GuestLayout.CmdlineAddress, expected.Length).ToArray());
    }

    [Fact]
    public void Memory_map_entries_match_the_layout()
    {
        Load(ElfBuilder.Bootable().Build());
        var info = _ram.HostSpan(GuestLayout.StartInfoAddress, HvmStartInfo.Size);
        ulong memmap = BinaryPrimitives.ReadUInt64LittleEndian(info[40..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(info[48..]);

        var expected = GuestLayout.MemoryMap(RamSize);
        Assert.Equal((uint)expected.Length, count);
        // The map must itself lie in boot data RAM, clear of the command line.
        Assert.True(memmap >= GuestLayout.StartInfoAddress + HvmStartInfo.Size);
        Assert.True(memmap + count * (ulong)HvmStartInfo.MemmapEntrySize <= GuestLayout.CmdlineAddress);
        for (int i = 0; i < count; i++)
        {
            var e = _ram.HostSpan(memmap + (ulong)(i * HvmStartInfo.MemmapEntrySize), HvmStartInfo.MemmapEntrySize);
            Assert.Equal(expected[i].Address, BinaryPrimitives.ReadUInt64LittleEndian(e[0..]));
            Assert.Equal(expected[i].Size, BinaryPrimitives.ReadUInt64LittleEndian(e[8..]));
            Assert.Equal((uint)expected[i].Type, BinaryPrimitives.ReadUInt32LittleEndian(e[16..]));
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(e[20..]));
        }
    }

    [Fact]
    public void Empty_cmdline_is_a_lone_NUL()
    {
        Load(ElfBuilder.Bootable().Build(), "");
        Assert.Equal(0, _ram.HostSpan(GuestLayout.CmdlineAddress, 1)[0]);
    }

    [Fact]
    public void Cmdline_of_the_maximum_length_fits()
    {
        string cmdline = new('x', GuestLayout.CmdlineMax);
        Load(ElfBuilder.Bootable().Build(), cmdline);
        Assert.Equal((byte)'x', _ram.HostSpan(GuestLayout.CmdlineAddress + (ulong)GuestLayout.CmdlineMax - 1, 1)[0]);
        Assert.Equal(0, _ram.HostSpan(GuestLayout.CmdlineAddress + (ulong)GuestLayout.CmdlineMax, 1)[0]);
    }

    [Fact]
    public void An_8_byte_entry_note_is_accepted()
    {
        var b = ElfBuilder.Bootable();
        b.Segments[2].Data = ElfBuilder.PvhNote64(ElfBuilder.KernelBase + 0x10);
        Assert.Equal((uint)(ElfBuilder.KernelBase + 0x10), Load(b.Build()).Entry);
    }

    public static TheoryData<string, string> Rejections => new()
    {
        { "no-pvh-note", "no PVH entry note" },
        { "note-wrong-name", "no PVH entry note" },
        { "note-2-bytes", "2-byte value" },
        { "entry-above-4g", "above 4 GiB" },
        { "entry-in-data", "not inside an executable loaded segment" },
        { "entry-in-text-bss", "not inside an executable loaded segment" },
        { "entry-nowhere", "not inside an executable loaded segment" },
        { "segment-below-1m", "below 1 MiB" },
        { "segment-beyond-ram", "does not fit in guest RAM" },
        { "segment-straddles-ram-end", "does not fit in guest RAM" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Unbootable_images_are_refused_and_RAM_is_left_alone(string defect, string messagePart)
    {
        var b = ElfBuilder.Bootable();
        switch (defect)
        {
            case "no-pvh-note": b.Segments.RemoveAt(2); break;
            case "note-wrong-name": b.Segments[2].Data = ElfBuilder.Note("Xe", 18, BitConverter.GetBytes((uint)ElfBuilder.KernelBase)); break;
            case "note-2-bytes": b.Segments[2].Data = ElfBuilder.Note("Xen", 18, [0x00, 0x10]); break;
            case "entry-above-4g": b.Segments[2].Data = ElfBuilder.PvhNote64(0x1_0010_0000); break;
            case "entry-in-data": b.Segments[2].Data = ElfBuilder.PvhNote((uint)b.Segments[1].PhysicalAddress); break;
            // Inside the executable segment's memory, but past its file bytes: nothing was loaded there.
            case "entry-in-text-bss": b.Segments[0].MemorySize = 0x800; b.Segments[2].Data = ElfBuilder.PvhNote((uint)ElfBuilder.KernelBase + 0x400); break;
            case "entry-nowhere": b.Segments[2].Data = ElfBuilder.PvhNote(0x40_0000); break;
            case "segment-below-1m": b.Segments[1].PhysicalAddress = 0x8_0000; break;
            case "segment-beyond-ram": b.Segments[1].PhysicalAddress = RamSize + 0x1000; break;
            case "segment-straddles-ram-end": b.Segments[1].PhysicalAddress = RamSize - 0x1000; break;
            default: throw new ArgumentException(defect);
        }
        var e = Assert.Throws<BootImageException>(() => Load(b.Build()));
        Assert.Contains(messagePart, e.Message);
        AssertRamUntouched();
    }

    [Theory]
    [InlineData("elfclass32")]
    [InlineData("truncated-note")]
    [InlineData("overlap")]
    public void Parse_failures_surface_through_Load(string defect)
    {
        Assert.Throws<BootImageException>(() => Load(ElfImageTests.Malformed(defect)));
        AssertRamUntouched();
    }

    [Fact]
    public void Cmdline_too_long_is_refused()
    {
        string cmdline = new('x', GuestLayout.CmdlineMax + 1);
        var e = Assert.Throws<BootImageException>(() => Load(ElfBuilder.Bootable().Build(), cmdline));
        Assert.Contains("command line", e.Message);
        // Counted in UTF-8 bytes, not characters: 2048 two-byte characters are 4096 bytes.
        Assert.Throws<BootImageException>(() => Load(ElfBuilder.Bootable().Build(), new string('é', 2048)));
    }

    private void AssertRamUntouched()
    {
        var all = _ram.HostSpan(0, (int)RamSize);
        int dirty = all.IndexOfAnyExcept((byte)0xAA);
        Assert.True(dirty < 0, $"RAM was written at 0x{dirty:x} by a load that failed");
    }
}
