using System.Buffers.Binary;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>ZeroPage.Write: boot_params fields at the offsets bootparam.h gives them.</summary>
public sealed class ZeroPageTests : IDisposable
{
    private const ulong At = 0x7000;
    private readonly FakeRam _ram = new(64 * 1024, fill: 0xAA);

    public void Dispose() => _ram.Dispose();

    private Span<byte> Page => _ram.HostSpan(At, ZeroPage.Size);
    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(Page[o..]);
    private ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(Page[o..]);

    private static ZeroPageInputs Inputs(ulong initrd = 0x1F00_0000, ulong initrdSize = 0x12_3456) =>
        new(0x6000, initrd, initrdSize, 0xE0000, GuestLayout.MemoryMap(512 * GuestLayout.MiB));

    [Fact]
    public void The_setup_header_is_copied_and_loader_fields_filled_in()
    {
        byte[] image = new BzImageBuilder().Build();
        var bz = BzImage.Parse(image);
        ZeroPage.Write(_ram.Memory, At, image.AsSpan(0x1F1, bz.SetupHeaderEnd - 0x1F1), Inputs());

        // Header bytes the loader does not own come through unchanged (kernel_alignment, pref_address, init_size).
        Assert.Equal(0x20_0000u, U32(0x230));
        Assert.Equal(0x100_0000ul, U64(0x258));
        Assert.Equal(0x5372_6448u, U32(0x202));
        Assert.Equal(0xFF, Page[0x210]);                 // type_of_loader: undefined
        Assert.Equal(0x6000u, U32(0x228));                // cmd_line_ptr
        Assert.Equal(0u, U32(0x0C8));                     // ext_cmd_line_ptr
        Assert.Equal(0x1F00_0000u, U32(0x218));           // ramdisk_image
        Assert.Equal(0x12_3456u, U32(0x21C));             // ramdisk_size
        Assert.Equal(0xE0000ul, U64(0x070));              // acpi_rsdp_addr
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(Page[0x1FA..])); // vid_mode: normal
        // Everything outside the header and the loader fields is zero, whatever RAM held before.
        Assert.Equal(0, Page[0x000]);
        Assert.Equal(0, Page[0xFFF]);
    }

    [Fact]
    public void The_e820_table_is_the_memory_map()
    {
        var map = GuestLayout.MemoryMap(5 * GuestLayout.GiB);
        ZeroPage.Write(_ram.Memory, At, [], Inputs() with { MemoryMap = map });
        Assert.Equal(map.Length, Page[0x1E8]);
        for (int i = 0; i < map.Length; i++)
        {
            var e = Page.Slice(0x2D0 + i * 20, 20);
            Assert.Equal(map[i].Address, BinaryPrimitives.ReadUInt64LittleEndian(e));
            Assert.Equal(map[i].Size, BinaryPrimitives.ReadUInt64LittleEndian(e[8..]));
            Assert.Equal((uint)map[i].Type, BinaryPrimitives.ReadUInt32LittleEndian(e[16..]));
        }
        Assert.Equal(0, Page[0x2D0 + map.Length * 20]); // nothing after the last entry
    }

    [Fact]
    public void A_vmlinux_gets_the_signature_fields_a_header_would_carry()
    {
        ZeroPage.Write(_ram.Memory, At, [], Inputs(initrd: 0, initrdSize: 0));
        Assert.Equal(0xAA55, BinaryPrimitives.ReadUInt16LittleEndian(Page[0x1FE..]));
        Assert.Equal(0x5372_6448u, U32(0x202));
        Assert.Equal(0u, U32(0x218));
        Assert.Equal(0u, U32(0x21C));
    }

    [Fact]
    public void Addresses_above_4_GiB_use_the_ext_fields()
    {
        ZeroPage.Write(_ram.Memory, At, [], Inputs(initrd: 0x1_2345_6000, initrdSize: 0x1000));
        Assert.Equal(0x2345_6000u, U32(0x218));
        Assert.Equal(1u, U32(0x0C0));
    }

    [Fact]
    public void Too_many_map_entries_are_refused()
    {
        var map = Enumerable.Range(0, 129).Select(i => new MemoryMapEntry((ulong)i << 20, 1 << 20, MemoryType.Ram)).ToArray();
        Assert.Throws<ArgumentException>(() => ZeroPage.Write(_ram.Memory, At, [], Inputs() with { MemoryMap = map }));
    }
}
