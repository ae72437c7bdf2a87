using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class StorageBenchVerdictsTests
{
    private static Verdict V(StorageBenchReport r, string name) => Assert.Single(r.Verdicts, v => v.Name == name);

    [Fact]
    public void Targets_met_when_bhyve_beats_qemu_and_reaches_the_host_share()
    {
        var r = SampleReports.Make(bhyveQd32: 9000, qemuQd32: 5000, hostQd32: 10000, bhyveDiscardP99: 100, qemuDiscardP99: 120, hostDiscardP99: 80);
        Assert.True(V(r, "bhyve-aot virtio-blk beats QEMU: 4k-randread-qd32").Met);
        Assert.Equal("9000 vs 5000 IOPS (1.80x)", V(r, "bhyve-aot virtio-blk beats QEMU: 4k-randread-qd32").Detail);
        Assert.True(V(r, "bhyve-aot virtio-blk reaches 85% of host io_uring IOPS at 4K QD32").Met);
        Assert.True(V(r, "bhyve-aot virtio-blk discard 1M p99 no worse than QEMU").Met);
        Assert.True(V(r, "bhyve-aot virtio-blk discard 1M p99 within 1.5x of host fallocate").Met);
        Assert.True(V(r, "bhyve-aot virtio-blk: no GC during a storage run").Met);
    }

    [Fact]
    public void Misses_say_by_how_much()
    {
        var r = SampleReports.Make(bhyveQd32: 4000, qemuQd32: 5000, hostQd32: 10000, bhyveDiscardP99: 200, qemuDiscardP99: 120, hostDiscardP99: 80, gc: 2);
        var beat = V(r, "bhyve-aot virtio-blk beats QEMU: 4k-randread-qd32");
        Assert.False(beat.Met);
        Assert.Equal("4000 vs 5000 IOPS (0.80x)", beat.Detail);
        var share = V(r, "bhyve-aot virtio-blk reaches 85% of host io_uring IOPS at 4K QD32");
        Assert.False(share.Met);
        Assert.Contains("(40%)", share.Detail);
        Assert.False(V(r, "bhyve-aot virtio-blk discard 1M p99 no worse than QEMU").Met);
        Assert.Equal("200.0 vs 80.0 us (2.50x)", V(r, "bhyve-aot virtio-blk discard 1M p99 within 1.5x of host fallocate").Detail);
        Assert.False(V(r, "bhyve-aot virtio-blk: no GC during a storage run").Met);
    }

    [Fact]
    public void An_unavailable_device_is_not_measured_never_passed()
    {
        var r = SampleReports.Make(9000, 5000, 10000, 100, 120, 80);
        var nvme = Assert.Single(r.Verdicts, v => v.Name.StartsWith("bhyve-aot nvme", StringComparison.Ordinal));
        Assert.Null(nvme.Met);
        Assert.Contains("--nvme is not supported yet", nvme.Detail);
        Assert.Contains(r.Notes, n => n == "bhyve-aot nvme: not available (--nvme is not supported yet)");
    }
}
