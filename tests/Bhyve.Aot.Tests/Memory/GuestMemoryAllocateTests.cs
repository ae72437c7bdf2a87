using Bhyve.Aot.Memory;
using Xunit;

namespace Bhyve.Aot.Tests.Memory;

/// <summary>
/// GuestMemory.Allocate over GuestLayout's ranges: real mmap'd regions, split around the PCI hole above 3 GiB.
/// The mappings are MAP_NORESERVE, so 5 GiB costs nothing until touched; these tests touch a few pages only.
/// </summary>
public class GuestMemoryAllocateTests
{
    private const ulong GiB = GuestLayout.GiB;

    [Fact]
    public void Five_GiB_is_two_regions_with_the_hole_refused()
    {
        using var m = GuestMemory.Allocate(GuestLayout.RamRanges(5 * GiB));

        Assert.Equal(2, m.RegionCount);
        Assert.Equal(new RamRange(0, 3 * GiB), m.GetRange(0));
        Assert.Equal(new RamRange(4 * GiB, 2 * GiB), m.GetRange(1));
        Assert.Equal(5 * GiB, m.TotalBytes);

        Assert.True(m.Contains(0xBFFF_F000, 0x1000));       // last low page
        Assert.False(m.Contains(0xBFFF_FFFF, 2));           // runs into the hole
        Assert.False(m.Contains(0xC000_0000, 1));           // PCI MMIO window
        Assert.False(m.Contains(0xE000_0000, 1));           // ECAM
        Assert.False(m.Contains(0xFFFF_FFFF, 1));           // last byte of the hole
        Assert.False(m.Contains(0xFFFF_FFFF, 2));           // straddles hole and high RAM
        Assert.True(m.Contains(4 * GiB, 1));                // first high byte
        Assert.True(m.Contains(6 * GiB - 1, 1));            // last high byte
        Assert.False(m.Contains(6 * GiB, 1));
        // One access never spans two regions, even though the guest sees no gap in "RAM" terms.
        Assert.False(m.Contains(0, 5 * GiB));
    }

    [Fact]
    public void Both_regions_are_writable_and_independent()
    {
        using var m = GuestMemory.Allocate(GuestLayout.RamRanges(5 * GiB));
        Assert.True(m.TryWrite(0x1000, 0x1111_1111_1111_1111UL));
        Assert.True(m.TryWrite(4 * GiB + 0x1000, 0x2222_2222_2222_2222UL));
        Assert.True(m.TryWrite(3 * GiB - 8, 0x3333_3333_3333_3333UL));
        Assert.Equal(0x1111_1111_1111_1111UL, m.Read<ulong>(0x1000));
        Assert.Equal(0x2222_2222_2222_2222UL, m.Read<ulong>(4 * GiB + 0x1000));
        Assert.Equal(0x3333_3333_3333_3333UL, m.Read<ulong>(3 * GiB - 8));
        // Fresh anonymous memory reads as zero.
        Assert.Equal(0UL, m.Read<ulong>(4 * GiB + 0x2000));
        Assert.False(m.TryWrite(0xC000_0000, 1UL));
    }

    [Fact]
    public void Exactly_3_GiB_needs_no_high_region()
    {
        using var m = GuestMemory.Allocate(GuestLayout.RamRanges(3 * GiB));
        Assert.Equal(1, m.RegionCount);
        Assert.True(m.Contains(3 * GiB - 1, 1));
        Assert.False(m.Contains(4 * GiB, 1));
    }

    [Fact]
    public void Dispose_unmaps_and_later_accesses_are_refused()
    {
        var m = GuestMemory.Allocate(GuestLayout.RamRanges(64 * GuestLayout.MiB));
        Assert.True(m.TryWrite(0x1000, 1u));
        m.Dispose();
        // After munmap a stale pointer would fault the process; the regions must be gone instead.
        Assert.False(m.Contains(0x1000, 4));
        Assert.False(m.TryRead(0x1000, out uint _));
        m.Dispose();
    }
}
