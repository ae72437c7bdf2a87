using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Memory;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>BAR sizing, decode, and the MMIO mapping that follows COMMAND.MEM and the programmed address.</summary>
public sealed class PciBarTests
{
    private const int Bar0 = PciConfigSpace.Bar0;

    private static (IoBus Mmio, TestPciDevice Device) Attached(params PciBar[] bars)
    {
        var mmio = new IoBus("mmio");
        var root = new PciRoot(mmio);
        var device = new TestPciDevice(bars);
        root.Attach(3, device);
        return (mmio, device);
    }

    private static void EnableMemory(TestPciDevice d, bool on = true) =>
        d.WriteConfig16(PciConfigSpace.Command, on ? PciConfigSpace.CommandMemory : (ushort)0);

    [Fact]
    public void Sizing_a_32_bit_BAR_reads_back_the_size_mask_and_type_bits()
    {
        var d = new TestPciDevice(new PciBar(1, 0x4000, Is64Bit: false, Prefetchable: true));
        d.WriteConfig32(Bar0 + 4, 0xFFFF_FFFF);
        Assert.Equal(~(0x4000u - 1) | PciBar.PrefetchableBit, d.ReadConfig32(Bar0 + 4));
    }

    [Fact]
    public void Sizing_a_64_bit_BAR_covers_both_halves()
    {
        var d = new TestPciDevice(new PciBar(0, 0x8000, Is64Bit: true));
        d.WriteConfig32(Bar0, 0xFFFF_FFFF);
        d.WriteConfig32(Bar0 + 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_8000u | PciBar.MemoryType64, d.ReadConfig32(Bar0));
        Assert.Equal(0xFFFF_FFFFu, d.ReadConfig32(Bar0 + 4));
    }

    [Fact]
    public void A_BAR_larger_than_4_GiB_has_read_only_low_bits_in_the_upper_half()
    {
        var d = new TestPciDevice(new PciBar(2, 1UL << 34, Is64Bit: true));
        d.WriteConfig32(Bar0 + 8, 0xFFFF_FFFF);
        d.WriteConfig32(Bar0 + 12, 0xFFFF_FFFF);
        Assert.Equal(PciBar.MemoryType64, d.ReadConfig32(Bar0 + 8));
        Assert.Equal(0xFFFF_FFFCu, d.ReadConfig32(Bar0 + 12));
    }

    [Fact]
    public void Unused_BARs_read_zero_and_ignore_writes()
    {
        var d = new TestPciDevice(new PciBar(0, 0x1000, Is64Bit: false));
        d.WriteConfig32(Bar0 + 4, 0xFFFF_FFFF);
        Assert.Equal(0u, d.ReadConfig32(Bar0 + 4));
    }

    [Fact]
    public void BarAddress_decodes_both_halves_without_the_type_bits()
    {
        var d = new TestPciDevice(new PciBar(0, 0x8000, Is64Bit: true));
        d.WriteConfig32(Bar0, 0x1234_5678);
        d.WriteConfig32(Bar0 + 4, 0x0000_0009);
        Assert.Equal(0x9_1234_0000UL, d.BarAddress(0));
    }

    [Theory]
    [InlineData(0x800UL)]
    [InlineData(0x3000UL)]
    public void BAR_sizes_below_4_KiB_or_not_a_power_of_two_are_refused(ulong size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TestPciDevice(new PciBar(0, size, false)));

    [Fact]
    public void A_64_bit_BAR_cannot_start_at_index_5() =>
        Assert.Throws<InvalidOperationException>(() => new TestPciDevice(new PciBar(5, 0x1000, true)));

    [Fact]
    public void The_BAR_is_mapped_only_while_memory_decoding_is_on()
    {
        var (mmio, d) = Attached(new PciBar(0, 0x8000, Is64Bit: true));
        ulong at = d.BarAddress(0);
        Assert.InRange(at, GuestLayout.PciMmioWindowStart, GuestLayout.PciMmioWindowStart + GuestLayout.PciMmioWindowSize - 1);
        Assert.False(mmio.TryFind(at, 4, out _, out _));
        Assert.Empty(d.Mapped);

        EnableMemory(d);
        Assert.Equal([(0, at)], d.Mapped);
        var data = new byte[4];
        Assert.True(mmio.Read(at + 0x7FFC, data));
        Assert.Equal(new byte[] { 0xB0, 0xB0, 0xB0, 0xB0 }, data);
        Assert.True(mmio.Write(at + 0x10, data));
        Assert.Equal([(0, 0x10UL, 4)], d.Writes);
        Assert.False(mmio.TryFind(at + 0x8000, 1, out _, out _));

        EnableMemory(d, false);
        Assert.Equal([(0, at)], d.Unmapped);
        Assert.False(mmio.TryFind(at, 4, out _, out _));
    }

    [Fact]
    public void Reprogramming_the_BAR_moves_the_mapping()
    {
        var (mmio, d) = Attached(new PciBar(0, 0x8000, Is64Bit: true));
        ulong old = d.BarAddress(0);
        EnableMemory(d);
        d.WriteConfig32(Bar0, 0xD000_0000);
        Assert.Equal(0xD000_0000UL, d.BarAddress(0));
        Assert.Equal([(0, old)], d.Unmapped);
        Assert.Equal((0, 0xD000_0000UL), d.Mapped[^1]);
        Assert.False(mmio.TryFind(old, 4, out _, out _));
        Assert.True(mmio.TryFind(0xD000_0000, 4, out _, out ulong offset));
        Assert.Equal(0UL, offset);
    }

    [Fact]
    public void A_BAR_moved_above_4_GiB_through_the_upper_half_follows()
    {
        var (mmio, d) = Attached(new PciBar(0, 0x8000, Is64Bit: true));
        EnableMemory(d);
        d.WriteConfig32(Bar0 + 4, 0x1);
        ulong at = d.BarAddress(0);
        Assert.True(at >> 32 == 1);
        Assert.True(mmio.TryFind(at, 4, out _, out _));
    }

    [Fact]
    public void Sizing_with_decode_off_maps_nothing_and_restoring_maps_it_back()
    {
        var (mmio, d) = Attached(new PciBar(0, 0x8000, Is64Bit: true));
        ulong at = d.BarAddress(0);
        d.WriteConfig32(Bar0, 0xFFFF_FFFF);
        d.WriteConfig32(Bar0, (uint)at);
        Assert.Empty(d.Mapped);
        EnableMemory(d);
        Assert.Equal([(0, at)], d.Mapped);
        Assert.True(mmio.TryFind(at, 4, out _, out _));
    }

    [Fact]
    public void A_BAR_placed_over_another_device_stays_unmapped()
    {
        var mmio = new IoBus("mmio");
        var root = new PciRoot(mmio);
        var a = new TestPciDevice(new PciBar(0, 0x1000, false));
        var b = new TestPciDevice(new PciBar(0, 0x1000, false));
        root.Attach(1, a);
        root.Attach(2, b);
        EnableMemory(a);
        EnableMemory(b);
        b.WriteConfig32(Bar0, (uint)a.BarAddress(0));
        Assert.Single(b.Mapped); // the first mapping only; the overlapping move is refused
        Assert.Single(b.Unmapped);
        Assert.True(mmio.TryFind(a.BarAddress(0), 4, out var owner, out _));
        var data = new byte[1];
        owner!.Read(0, data);
        Assert.Equal(0xB0, data[0]);
    }
}
