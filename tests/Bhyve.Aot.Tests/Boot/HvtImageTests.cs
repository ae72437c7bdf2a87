using System.Buffers.Binary;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>hvt image validation against its RAM, the read-only page set, and what the loader leaves in guest memory.</summary>
public class HvtImageTests
{
    private const ulong Ram = 64 << 20;

    private static HvtImage Validate(ElfBuilder b, ulong ram = Ram)
    {
        byte[] file = b.Build();
        return HvtImage.Validate(ElfImage.Parse(file), file, ram);
    }

    [Fact]
    public void Good_image_gives_entry_kernel_end_and_read_only_pages()
    {
        var image = Validate(Solo5Notes.HvtImage());
        Assert.Equal(0x10_0000UL, image.Entry);
        Assert.Equal(0x10_5000UL, image.KernelEnd);   // data at +0x2000, 0x3000 bytes of memory
        Assert.Equal([new RamRange(0x10_0000, 0x2000)], image.ReadOnlyRanges);
        Assert.Equal("storage", Assert.Single(image.Manifest.Devices).Name);
    }

    [Fact]
    public void Segment_below_one_MiB_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        b.Segments[2].PhysicalAddress = 0x8_0000;
        Assert.Contains("below the hvt minimum load address", Assert.Throws<BootImageException>(() => Validate(b)).Message);
    }

    [Fact]
    public void Segment_past_RAM_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        Assert.Contains("does not fit in guest RAM", Assert.Throws<BootImageException>(() => Validate(b, ram: 0x10_4000)).Message);
    }

    [Fact]
    public void Writable_and_executable_segment_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        b.Segments[0].Flags |= ElfBuilder.PfW;
        Assert.Contains("both writable and executable", Assert.Throws<BootImageException>(() => Validate(b)).Message);
    }

    [Fact]
    public void Entry_outside_the_text_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        b.Entry = 0x10_1000; // rodata: loaded, not executable
        Assert.Contains("not inside an executable loaded segment", Assert.Throws<BootImageException>(() => Validate(b)).Message);
    }

    [Fact]
    public void A_page_shared_with_a_writable_segment_stays_writable()
    {
        ElfSegment Seg(ulong at, ulong size, uint flags) => new(0, 0, at, size, flags);
        const uint rx = 5, r = 4, rw = 6;
        // text ends mid-page where data begins: that page must stay writable.
        Assert.Equal([new RamRange(0x10_0000, 0x1000)],
            HvtImage.ReadOnlyPages([Seg(0x10_0000, 0x1800, rx), Seg(0x10_1800, 0x100, rw)]));
        // data ends mid-page where rodata begins.
        Assert.Equal([new RamRange(0x10_2000, 0x1000)],
            HvtImage.ReadOnlyPages([Seg(0x10_0000, 0x1800, rw), Seg(0x10_1800, 0x1800, r)]));
        // adjacent read-only segments merge into one range.
        Assert.Equal([new RamRange(0x10_0000, 0x3000)],
            HvtImage.ReadOnlyPages([Seg(0x10_0000, 0x1000, rx), Seg(0x10_1000, 0x2000, r)]));
        // a read-only segment smaller than the page it shares with data protects nothing.
        Assert.Empty(HvtImage.ReadOnlyPages([Seg(0x10_0000, 0x100, r), Seg(0x10_0100, 0x100, rw)]));
    }

    [Theory]
    [InlineData(64UL << 20, null)]
    [InlineData(2UL << 20, null)]            // solo5-hvt's minimum: one 2 MiB page
    [InlineData(4UL << 30, null)]            // and its maximum: four page directories
    [InlineData(0UL, "at least 2 MiB")]
    [InlineData((64UL << 20) + 4096, "whole 2 MiB pages")]
    [InlineData((4UL << 30) + (2 << 20), "at most 4096 MiB")]
    public void RAM_size_limits(ulong ram, string? problem)
    {
        string? actual = HvtLayout.CheckRamSize(ram);
        if (problem is null) Assert.Null(actual);
        else Assert.Contains(problem, actual);
    }

    [Fact]
    public void Arguments_are_joined_by_spaces_up_to_the_command_line_size()
    {
        Assert.Equal("a b  c", HvtLoader.JoinArguments(["a", "b", "", "c"]));
        Assert.Equal("", HvtLoader.JoinArguments([]));
        Assert.Equal(8191, HvtLoader.JoinArguments([new string('x', 8191)]).Length);
        Assert.Contains("too long (max=8191", Assert.Throws<BootImageException>(() => HvtLoader.JoinArguments([new string('x', 4096), new string('y', 4095)])).Message);
        Assert.Contains("NUL", Assert.Throws<BootImageException>(() => HvtLoader.JoinArguments(["a\0b"])).Message);
    }

    [Fact]
    public void Loader_writes_segments_boot_info_manifest_command_line_and_page_tables()
    {
        var b = Solo5Notes.HvtImage(manifestNote: Solo5Notes.ManifestNote(Solo5Notes.ManifestDescriptor(("storage", 1), ("service", 2))));
        byte[] file = b.Build();
        var image = HvtImage.Validate(ElfImage.Parse(file), file, Ram);
        using var ram = new FakeRam(Ram, fill: 0xEE);
        var attached = new Dictionary<int, Solo5DeviceInfo>
        {
            [1] = Solo5DeviceInfo.Block(1 << 20, 512),
            [2] = Solo5DeviceInfo.Net(0x02_11_22_33_44_55, 1500),
        };

        var boot = HvtLoader.Load(image, file, ram.Memory, Ram, attached, "hello world", 2_445_404_000);

        Assert.Equal(new HvtBoot(0x10_0000, HvtLayout.BootInfoAddress, Ram - 8), boot);
        Assert.True(ram.HostSpan(0x10_0000, 0x300).SequenceEqual(b.Segments[0].Data));
        Assert.True(ram.HostSpan(0x10_2040, 0x3000 - 0x40).IndexOfAnyExcept((byte)0) < 0, "bss not zeroed");

        var info = ram.HostSpan(HvtLayout.BootInfoAddress, 40);
        Assert.Equal(Ram, BinaryPrimitives.ReadUInt64LittleEndian(info));
        Assert.Equal(image.KernelEnd, BinaryPrimitives.ReadUInt64LittleEndian(info[8..]));
        Assert.Equal(2_445_404_000UL, BinaryPrimitives.ReadUInt64LittleEndian(info[16..]));
        ulong cmdline = BinaryPrimitives.ReadUInt64LittleEndian(info[24..]), mft = BinaryPrimitives.ReadUInt64LittleEndian(info[32..]);
        Assert.Equal(HvtLayout.BootInfoAddress + 40, mft);
        Assert.Equal(mft + 8 + 3 * 104, cmdline);
        Assert.Equal("hello world\0"u8.ToArray(), ram.HostSpan(cmdline, 12).ToArray());
        Assert.True(cmdline + 8192 <= HvtLayout.GuestMinBase);

        var m = ram.HostSpan(mft, 8 + 3 * 104);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(m[4..]));
        var disk = m.Slice(8 + 104, 104);
        Assert.Equal("storage\0"u8.ToArray(), disk[..8].ToArray());
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(disk[68..]));
        Assert.Equal(1UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(disk[72..]));
        Assert.Equal(512, BinaryPrimitives.ReadUInt16LittleEndian(disk[80..]));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(disk[88..]));
        Assert.Equal(1, disk[96]);
        var net = m.Slice(8 + 2 * 104, 104);
        Assert.Equal(new byte[] { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }, net.Slice(72, 6).ToArray());
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16LittleEndian(net[78..]));
        Assert.Equal(1, net[96]);

        AssertSolo5PageTables(ram.Memory, Ram);
        Assert.Equal(0x00AF_9B00_0000_FFFFUL, ram.Memory.Read<ulong>(HvtLayout.GdtAddress + 8));
    }

    /// <summary>
    /// solo5-hvt's tables (hvt_x86_setup_pagetables): PML4 -> PDPT with four entries -> four PDs of 2 MiB pages,
    /// the first 2 MiB through PT0 in 4 KiB pages: not present below 0x10000, read-only to 1 MiB, writable above.
    /// </summary>
    internal static void AssertSolo5PageTables(GuestMemory memory, ulong ram)
    {
        Assert.Equal(0x3000UL | 3, memory.Read<ulong>(0x2000));
        for (ulong i = 0; i < 4; i++) Assert.Equal((0x4000 + i * 0x1000) | 3, memory.Read<ulong>(0x3000 + i * 8));
        Assert.Equal(0UL, memory.Read<ulong>(0x3000 + 4 * 8));
        Assert.Equal(0x8000UL | 3, memory.Read<ulong>(0x4000));             // PD[0] -> PT0, not a large page
        for (ulong page = 0; page < 0x10000; page += 0x1000) Assert.Equal(0UL, memory.Read<ulong>(0x8000 + page / 0x1000 * 8));
        Assert.Equal(0x10000UL | 1, memory.Read<ulong>(0x8000 + 0x10 * 8));    // boot info: present, read-only
        Assert.Equal(0xFF000UL | 1, memory.Read<ulong>(0x8000 + 0xFF * 8));
        Assert.Equal(0x100000UL | 3, memory.Read<ulong>(0x8000 + 0x100 * 8));  // the unikernel's first page: writable
        Assert.Equal(0x1FF000UL | 3, memory.Read<ulong>(0x8000 + 0x1FF * 8));
        if (ram > 2 << 20) Assert.Equal((2UL << 20) | 0x83, memory.Read<ulong>(0x4000 + 8));
        ulong last = ram / (2 << 20) - 1;
        if (last > 0) Assert.Equal((ram - (2 << 20)) | 0x83, memory.Read<ulong>(0x4000 + last * 8));
        if (ram < 4UL << 30) Assert.Equal(0UL, memory.Read<ulong>(0x4000 + (last + 1) * 8));
    }

    [Fact]
    public void Abi_2_boot_info_has_the_feature_fields_zero_and_the_manifest_after_56_bytes()
    {
        var b = Solo5Notes.HvtImage(abiNote: Solo5Notes.AbiNote(1, 2));
        byte[] file = b.Build();
        var image = HvtImage.Validate(ElfImage.Parse(file), file, Ram);
        Assert.Equal(2u, image.AbiVersion);
        using var ram = new FakeRam(Ram, fill: 0xEE);

        HvtLoader.Load(image, file, ram.Memory, Ram, new Dictionary<int, Solo5DeviceInfo>(), "", 1_000_000_000);

        var info = ram.HostSpan(HvtLayout.BootInfoAddress, 56);
        ulong mft = BinaryPrimitives.ReadUInt64LittleEndian(info[32..]);
        Assert.Equal(HvtLayout.BootInfoAddress + 56, mft);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info[40..]));    // host_features: no HVT_FEATURE_RING_IO
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info[44..]));    // guest_features
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(info[48..]));   // net_ring
        Assert.Equal(Solo5Manifest.Version, ram.Memory.Read<uint>(mft));
        Assert.Equal(mft + (ulong)image.Manifest.Size, BinaryPrimitives.ReadUInt64LittleEndian(info[24..]));
        AssertSolo5PageTables(ram.Memory, Ram);
    }

    [Theory]
    [InlineData(2UL << 20)]
    [InlineData(4UL << 30)]
    public void Page_tables_cover_solo5_hvts_smallest_and_largest_guest(ulong ram)
    {
        // A 4 GiB fake is calloc'ed and left untouched but for the tables; only the small one is poisoned first.
        using var fake = new FakeRam(ram, fill: ram <= 64 << 20 ? (byte)0xEE : (byte)0);
        HvtPageTables.Write(fake.Memory, ram);
        AssertSolo5PageTables(fake.Memory, ram);
    }

    [Fact]
    public void An_unattached_entry_is_copied_but_not_marked_attached()
    {
        var manifest = Solo5Manifest.Parse(Solo5Notes.ManifestDescriptor(("a", 1), ("b", 1)));
        var area = new byte[manifest.Size];
        HvtLoader.WriteManifest(area, manifest, new Dictionary<int, Solo5DeviceInfo> { [2] = Solo5DeviceInfo.Block(4096, 512) });
        Assert.Equal(0, area[8 + 104 + 96]);
        Assert.Equal(1, area[8 + 2 * 104 + 96]);
        Assert.Equal((uint)Solo5DeviceType.ReservedFirst, BinaryPrimitives.ReadUInt32LittleEndian(area.AsSpan(8 + 68)));
    }
}
