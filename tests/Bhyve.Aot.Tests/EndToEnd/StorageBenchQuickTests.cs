using System.Text.Json;
using Bhyve.Aot.StorageBench;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The `--quick` smoke run of the storage suite on the published binary: every workload and the small discard
/// series on bhyve-aot virtio-blk, QEMU and the host, results written and parseable. NVMe columns may be "not
/// available" while the device is being built, but then they must say why.
/// </summary>
public sealed class StorageBenchQuickTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-bench-quick-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Quick_suite_measures_every_workload_on_bhyve_qemu_and_the_host()
    {
        Repo.RequireKvm();
        string output = Path.Combine(_dir, "results");
        var r = await ProcessRunner.RunAsync(Repo.Binary,
            // No --guest: the published binary boots the storage-bench.elf built into it.
            ["bench", "storage", "--disk", "64M", "--quick", "--vs", "qemu", "--device", "all", "--output", output],
            TimeSpan.FromSeconds(120));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("4k-randread-qd32", r.Stdout);
        Assert.Contains("[  1/", r.Stderr);      // progress, one line per step when stderr is not a terminal

        var report = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(output, "results.json")), StorageBenchJsonContext.Default.StorageBenchReport)!;
        Assert.True(File.Exists(Path.Combine(output, "results.md")));
        Assert.Equal(StorageWorkload.Standard.Count, report.Workloads.Length);
        foreach (string needed in new[] { "bhyve-aot virtio-blk", "qemu virtio-blk", "host" })
            Assert.True(report.Targets.Single(t => t.Label == needed).Available, $"{needed}: {report.Targets.Single(t => t.Label == needed).Unavailable}");
        // Every available target (NVMe included once it works) has a number for every workload and discard size.
        string[] available = [.. report.Targets.Where(t => t.Available).Select(t => t.Label)];
        foreach (var w in report.Workloads)
            foreach (string target in available)
            {
                var t = Assert.Single(w.Results, x => x.Target == target);
                Assert.True(t.Median is { Iops: > 0 }, $"{w.Name} {target}: {t.Error}");
                Assert.True(t.Median.Latency.P50 > 0 && t.Median.Latency.P50 <= t.Median.Latency.P99, $"{w.Name} {target}: latency {t.Median.Latency}");
            }
        var bhyve = report.Workloads.SelectMany(w => w.Results.Where(x => x.Target.StartsWith("bhyve-aot", StringComparison.Ordinal) && x.Median is not null)).ToArray();
        Assert.All(bhyve, b => Assert.NotNull(b.ExitsPerIo));
        Assert.All(bhyve, b => Assert.NotNull(b.GcCollections));
        Assert.All(bhyve, b => Assert.NotNull(b.RatioToQemu));

        foreach (var target in report.Targets.Where(t => !t.Available)) Assert.False(string.IsNullOrWhiteSpace(target.Unavailable));
        Assert.Contains(report.Targets, t => t.Label == "bhyve-aot nvme");

        Assert.True(report.Environment.TscKhz > 0);
        Assert.NotEmpty(report.Discard);
        foreach (var d in report.Discard)
            foreach (string target in available)
            {
                var t = Assert.Single(d.Results, x => x.Target == target);
                Assert.True(t.P99 > 0, $"discard {d.RangeBytes} {target}: {t.Error}");
                // Every deallocated range came back (the ranges were allocated just before).
                Assert.InRange(t.BytesReturned!.Value, t.BytesDiscarded * 9 / 10, t.BytesDiscarded + (1 << 20));
            }
    }
}
