using Bhyve.Aot.Memory;
using Xunit;

namespace Bhyve.Aot.Tests.Memory;

/// <summary>The guest-physical map: RAM below the 3 GiB PCI hole, the rest from 4 GiB, and what the guest is told.</summary>
public class GuestLayoutTests
{
    private const ulong MiB = GuestLayout.MiB, GiB = GuestLayout.GiB;
    // Legacy area reported reserved, as PC firmware and QEMU do: 0x9FC00..1 MiB.
    private const ulong LegacyReserved = 0x10_0000 - 0x9_FC00;

    [Fact]
    public void Small_RAM_is_one_range_from_zero()
    {
        Assert.Equal([new RamRange(0, 64 * MiB)], GuestLayout.RamRanges(64 * MiB));
    }

    [Fact]
    public void Exactly_3_GiB_still_fits_below_the_hole()
    {
        Assert.Equal([new RamRange(0, 3 * GiB)], GuestLayout.RamRanges(3 * GiB));
    }

    [Fact]
    public void More_than_3_GiB_continues_at_4_GiB()
    {
        Assert.Equal([new RamRange(0, 3 * GiB), new RamRange(4 * GiB, 2 * GiB)], GuestLayout.RamRanges(5 * GiB));
        Assert.Equal([new RamRange(0, 3 * GiB), new RamRange(4 * GiB, 4 * 1024)], GuestLayout.RamRanges(3 * GiB + 4 * 1024));
    }

    [Fact]
    public void Memory_map_for_64M()
    {
        Assert.Equal(
            [
                new MemoryMapEntry(0, 0x9_FC00, MemoryType.Ram),
                new MemoryMapEntry(0x9_FC00, LegacyReserved, MemoryType.Reserved),
                new MemoryMapEntry(1 * MiB, 63 * MiB, MemoryType.Ram),
                new MemoryMapEntry(0xE000_0000, 256 * MiB, MemoryType.Reserved),
            ],
            GuestLayout.MemoryMap(64 * MiB));
    }

    [Fact]
    public void Memory_map_for_3G_and_5G()
    {
        var three = GuestLayout.MemoryMap(3 * GiB);
        Assert.Equal(4, three.Length);
        Assert.Equal(new MemoryMapEntry(1 * MiB, 3 * GiB - 1 * MiB, MemoryType.Ram), three[2]);

        var five = GuestLayout.MemoryMap(5 * GiB);
        Assert.Equal(5, five.Length);
        Assert.Equal(new MemoryMapEntry(1 * MiB, 3 * GiB - 1 * MiB, MemoryType.Ram), five[2]);
        Assert.Equal(new MemoryMapEntry(0xE000_0000, 256 * MiB, MemoryType.Reserved), five[3]);
        Assert.Equal(new MemoryMapEntry(4 * GiB, 2 * GiB, MemoryType.Ram), five[4]);
    }

    [Theory]
    [InlineData(4UL * 1024 * 1024)]
    [InlineData(64UL * 1024 * 1024)]
    [InlineData(3UL << 30)]
    [InlineData((3UL << 30) + 4096)]
    [InlineData(5UL << 30)]
    [InlineData(1024UL << 30)]
    public void Memory_map_is_sorted_disjoint_and_reports_all_RAM_but_the_legacy_hole(ulong ram)
    {
        var map = GuestLayout.MemoryMap(ram);
        for (int i = 1; i < map.Length; i++)
            Assert.True(map[i - 1].End <= map[i].Address, $"entries {i - 1} and {i} overlap or are unsorted");
        ulong reportedRam = map.Where(e => e.Type == MemoryType.Ram).Aggregate(0UL, (sum, e) => sum + e.Size);
        Assert.Equal(ram - LegacyReserved, reportedRam);
        // No RAM entry may cover the PCI window, ECAM or the APICs.
        foreach (var e in map.Where(e => e.Type == MemoryType.Ram))
            Assert.True(e.End <= GuestLayout.PciMmioWindowStart || e.Address >= GuestLayout.HighRamStart);
        // Every RAM entry is backed by a RAM range.
        var ranges = GuestLayout.RamRanges(ram);
        foreach (var e in map.Where(e => e.Type == MemoryType.Ram))
            Assert.Contains(ranges, r => r.Address <= e.Address && e.End <= r.End);
    }

    [Fact]
    public void Ram_reported_for_64M_is_what_the_hello_guest_prints()
    {
        // hello.elf sums type-1 entries; the end-to-end test expects "memory: 65151 KiB".
        ulong kib = GuestLayout.MemoryMap(64 * MiB).Where(e => e.Type == MemoryType.Ram).Aggregate(0UL, (s, e) => s + e.Size) >> 10;
        Assert.Equal(65151UL, kib);
    }

    [Theory]
    [InlineData(0UL, "at least")]
    [InlineData(4UL * 1024 * 1024 - 4096, "at least")]
    [InlineData((1024UL << 30) + 4096, "at most")]
    [InlineData(ulong.MaxValue, "at most")]
    [InlineData(64UL * 1024 * 1024 + 1, "multiple of 4 KiB")]
    [InlineData(64UL * 1024 * 1024 + 512, "multiple of 4 KiB")]
    public void Validate_refuses_bad_sizes(ulong ram, string messagePart)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GuestLayout.Validate(ram));
        Assert.Contains(messagePart, e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GuestLayout.RamRanges(ram));
        Assert.Throws<ArgumentOutOfRangeException>(() => GuestLayout.MemoryMap(ram));
    }

    [Theory]
    [InlineData(4UL * 1024 * 1024)]
    [InlineData(1024UL << 30)]
    [InlineData(64UL * 1024 * 1024 + 4096)]
    public void Validate_accepts_the_limits(ulong ram)
    {
        GuestLayout.Validate(ram);
    }

    [Fact]
    public void Boot_data_addresses_lie_in_low_RAM_and_do_not_collide()
    {
        // GDT (4 descriptors), start info + memmap, cmdline: all below the legacy hole and in this order.
        Assert.True(GuestLayout.BootGdtAddress + 4 * 8 <= GuestLayout.StartInfoAddress);
        Assert.True(GuestLayout.StartInfoAddress < GuestLayout.CmdlineAddress);
        Assert.True(GuestLayout.CmdlineAddress + (ulong)GuestLayout.CmdlineMax + 1 <= GuestLayout.LowRamEnd);
    }
}
