using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class VmmStatsTests
{
    [Fact]
    public void Run_stats_lines_are_read()
    {
        const string stderr = """
            bhyve-aot: exits to user space: 1234 (port I/O 1200, MMIO 30, interrupted 4, other 0)
            bhyve-aot: virtio-blk: 20000 requests, 7000 doorbells (ioeventfd), 0 interrupts, 3 backend-full stalls
            bhyve-aot: gc: 0 gen0, 0 gen1, 0 gen2 collections, 1048576 bytes allocated
            """;
        var s = VmmStats.Parse(stderr);
        Assert.Equal(34, s.Exits);     // port I/O (the console) left out
        Assert.Equal(7000, s.Doorbells);
        Assert.Equal(0, s.Interrupts);
        Assert.Equal(0, s.GcCollections);
        Assert.Equal(1048576, s.AllocatedBytes);
    }

    [Fact]
    public void Nvme_doorbells_are_mmio_plus_ioeventfd()
    {
        var s = VmmStats.Parse("bhyve-aot: nvme: 100 I/O commands, 9 admin commands, doorbells 12 MMIO + 150 ioeventfd, 2 interrupts, 0 CQ-full waits, 0 backend-full stalls\n");
        Assert.Equal(162, s.Doorbells);
        Assert.Equal(2, s.Interrupts);
    }

    [Fact]
    public void Gen0_is_the_count_of_all_collections()
    {
        Assert.Equal(5, VmmStats.Parse("bhyve-aot: gc: 5 gen0, 2 gen1, 1 gen2 collections, 9 bytes allocated").GcCollections);
    }

    [Fact]
    public void Absent_counters_stay_null()
    {
        var s = VmmStats.Parse("bhyve-aot: exits to user space: 7\n");
        Assert.Equal(7, s.Exits);
        Assert.Null(s.Doorbells);
        Assert.Null(s.GcCollections);
    }
}

public sealed class ExitsPerOperationTests
{
    [Fact]
    public void Idle_exits_are_subtracted_before_dividing()
    {
        Assert.Equal(0.5, VmmStats.ExitsPerOperation(1500, 1000, 1000));
        Assert.Equal(0, VmmStats.ExitsPerOperation(900, 1000, 1000));     // noise below the idle run is not negative
        Assert.Null(VmmStats.ExitsPerOperation(null, 1000, 1000));
        Assert.Null(VmmStats.ExitsPerOperation(1500, null, 1000));
        Assert.Null(VmmStats.ExitsPerOperation(1500, 1000, 0));
    }
}
