using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// The physical limit: host-native io_uring on the same file with the same request sizes and depths (fio's io_uring
/// engine when fio is installed, else our own io_uring loop, and the report says which), and host
/// fallocate(PUNCH_HOLE) for the discard series.
/// </summary>
public sealed class HostRunner(string? fio, string? fioVersion, BackingFile file) : ITargetRunner
{
    public BenchTarget Target => BenchTarget.Host;

    public string Description => fio is not null
        ? $"{fioVersion ?? "fio"} (ioengine=io_uring); discard: fallocate(PUNCH_HOLE|KEEP_SIZE)"
        : "fio not installed: bhyve-aot's own io_uring loop (IoUringBlockEngine); discard: fallocate(PUNCH_HOLE|KEEP_SIZE)";

    public TargetRun Run(StorageWorkload workload, RunSettings settings)
    {
        if (fio is null) return new TargetRun(HostIoUringLoop.Run(file, workload, settings), null);
        var run = ChildProcess.Run(fio, FioArguments(file.Path, file.Size, workload, settings), TimeSpan.FromMilliseconds(settings.DurationMs) + TimeSpan.FromSeconds(60));
        if (run.ExitCode != 0) throw new BenchException($"fio exited with status {run.ExitCode}: {run.Reason()}");
        try { return new TargetRun(FioResultParser.Parse(run.Stdout, workload.Kind), null); }
        catch (FormatException e) { throw new BenchException($"fio: {e.Message}"); }
    }

    public VmmStats? Idle(RunSettings settings) => null;

    public DiscardRun Discard(long size, int count, RunSettings settings)
    {
        double[] samples = file.PunchSeries(size, count);
        return new DiscardRun(count, Percentiles.NearestRank(samples, 50), Percentiles.NearestRank(samples, 99), samples.Max());
    }

    /// <summary>fio's command line for a workload: io_uring, same block size and depth, time-based, latency percentiles.</summary>
    public static IReadOnlyList<string> FioArguments(string path, long size, StorageWorkload w, RunSettings s)
    {
        var args = new List<string>
        {
            "--name=bench", $"--filename={path}", "--ioengine=io_uring", $"--direct={(s.Cache == CacheMode.Direct ? 1 : 0)}",
            $"--bs={w.BlockSize}", $"--iodepth={w.QueueDepth}", "--time_based", $"--runtime={s.DurationMs}ms",
            $"--size={size}", "--norandommap", "--randrepeat=0", "--invalidate=0",
            "--lat_percentiles=1", "--percentile_list=50:90:99:99.9", "--output-format=json",
        };
        args.AddRange(w.Kind switch
        {
            WorkloadKind.RandRead => ["--rw=randread"],
            WorkloadKind.RandWrite => ["--rw=randwrite"],
            WorkloadKind.SeqRead => ["--rw=read"],
            WorkloadKind.SeqWrite => ["--rw=write"],
            WorkloadKind.Mixed => ["--rw=randrw", string.Create(CultureInfo.InvariantCulture, $"--rwmixread={w.ReadPercent}"), "--unified_rw_reporting=mixed"],
            WorkloadKind.FlushWrite => ["--rw=randwrite", "--fdatasync=1"],
            _ => throw new ArgumentOutOfRangeException(nameof(w)),
        });
        return args;
    }
}
