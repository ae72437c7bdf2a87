using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

/// <summary>The host column when fio is missing: bhyve-aot's io_uring engine driven straight on the file.</summary>
public sealed class HostIoUringLoopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-hostloop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("4k-randread-qd32")]
    [InlineData("128k-seqwrite-qd8")]
    [InlineData("4k-mixed70-qd32")]
    [InlineData("4k-flushwrite-qd1")]
    public void Every_workload_runs_for_its_duration_and_reports_latencies(string name)
    {
        using var file = BackingFile.CreateTemporary(_dir, 4 << 20);
        file.Fill();
        var w = StorageWorkload.Standard.Single(x => x.Name == name);
        var m = HostIoUringLoop.Run(file, w, new RunSettings(150, 1, CacheMode.Buffered));
        Assert.True(m.Operations > 0);
        Assert.InRange(m.Seconds, 0.14, 5);
        Assert.Equal(m.Operations / m.Seconds, m.Iops, 6);
        Assert.Equal(m.Operations * (double)w.BlockSize / m.Seconds / (1 << 20), m.MiBPerSecond, 6);
        Assert.True(m.Latency.P50 > 0 && m.Latency.P50 <= m.Latency.P99 && m.Latency.P99 <= m.Latency.P999);
    }
}
