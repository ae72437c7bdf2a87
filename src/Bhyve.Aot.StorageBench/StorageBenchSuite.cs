using System.Diagnostics;
using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// Runs the storage suite: every workload on every target (rounds alternate the order of the targets so drift
/// in a noisy host hits them alike), then the discard series, then ratios and the targets.
/// </summary>
public sealed class StorageBenchSuite(StorageBenchOptions options, BenchEnvironment environment, IReadOnlyList<ITargetRunner> runners,
    BackingFile file, ProgressDisplay progress)
{
    private readonly Dictionary<BenchTarget, string?> _unavailable = [];
    private readonly Dictionary<BenchTarget, long?> _idleExits = [];

    /// <summary>Steps the progress display counts for these options and this many targets.</summary>
    public static int CountSteps(StorageBenchOptions o, int targets) =>
        (StorageWorkload.Standard.Count * o.Rounds + o.DiscardSizes.Count) * targets;

    public StorageBenchReport Run(IReadOnlyDictionary<BenchTarget, string> unavailableUpFront)
    {
        long t0 = Stopwatch.GetTimestamp();
        string started = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        foreach (var (target, reason) in unavailableUpFront) _unavailable[target] = reason;
        var settings = new RunSettings(options.DurationMs, environment.TscKhz, options.Cache);

        foreach (var runner in runners.Where(r => !_unavailable.ContainsKey(r.Target)))
        {
            try { if (runner.Idle(settings) is { } idle) _idleExits[runner.Target] = idle.Exits; }
            catch (BenchException e)
            {
                _unavailable[runner.Target] = e.Message;
                progress.Note($"{runner.Target.Label}: not available ({e.Message})");
            }
        }
        var workloads = StorageWorkload.Standard.Select(w => RunWorkload(w, settings)).ToArray();
        var discard = options.DiscardSizes.Where(s => s <= file.Size).Select(s => RunDiscard(s, settings)).ToArray();
        progress.Finish();

        var targets = runners.Select(r => r.Target).Concat(unavailableUpFront.Keys).Distinct()
            .Select(t => new TargetInfo(t.Label, t.Runner, t.Device, !_unavailable.ContainsKey(t), _unavailable.GetValueOrDefault(t),
                runners.FirstOrDefault(r => r.Target == t)?.Description ?? "")).ToArray();
        var report = new StorageBenchReport(started, Stopwatch.GetElapsedTime(t0).TotalSeconds, environment,
            new SuiteSettings(options.Cache, options.DurationMs, options.Rounds, options.Quick,
                [.. options.Devices.Select(BenchTarget.DeviceName)], options.VsQemu),
            targets, workloads, discard, [], []);
        return report with { Verdicts = [.. StorageBenchVerdicts.Evaluate(report)], Notes = [.. StorageBenchVerdicts.Notes(report)] };
    }

    private WorkloadResult RunWorkload(StorageWorkload w, RunSettings settings)
    {
        var rounds = runners.ToDictionary(r => r.Target, _ => new List<TargetRun>());
        var errors = new Dictionary<BenchTarget, string>();
        for (int round = 0; round < options.Rounds; round++)
        {
            var order = round % 2 == 0 ? runners : runners.Reverse().ToList();
            foreach (var runner in order)
            {
                progress.Begin($"{w.Name}  {runner.Target.Label}  round {round + 1}/{options.Rounds}");
                if (_unavailable.ContainsKey(runner.Target)) continue;
                try { rounds[runner.Target].Add(runner.Run(w, settings)); }
                catch (BenchException e)
                {
                    // A target that has never worked is not there (e.g. a device not built yet); a later failure is an error of this run.
                    if (!HasEverRun(runner.Target) && rounds[runner.Target].Count == 0)
                    {
                        _unavailable[runner.Target] = e.Message;
                        progress.Note($"{runner.Target.Label}: not available ({e.Message})");
                    }
                    else
                    {
                        errors[runner.Target] = e.Message;
                        progress.Note($"{w.Name} {runner.Target.Label}: {e.Message}");
                    }
                }
            }
        }
        foreach (var (t, list) in rounds) if (list.Count > 0) _everRan.Add(t);

        var medians = rounds.ToDictionary(kv => kv.Key, kv => kv.Value.Count > 0 ? MedianOf([.. kv.Value.Select(r => r.Measurement)]) : null);
        double? hostIops = medians.GetValueOrDefault(BenchTarget.Host)?.Iops;
        var results = runners.Select(r =>
        {
            var t = r.Target;
            var m = medians[t];
            var runs = rounds[t];
            double? qemuIops = t.Runner == BenchRunner.BhyveAot ? medians.GetValueOrDefault(new BenchTarget(BenchRunner.Qemu, t.Device))?.Iops : null;
            long ops = runs.Sum(x => x.Measurement.Operations);
            var stats = runs.Select(x => x.Stats).Where(s => s is not null).Cast<VmmStats>().ToArray();
            double? PerIo(Func<VmmStats, long?> f) => stats.Length > 0 && stats.All(s => f(s) is not null) && ops > 0 ? stats.Sum(s => f(s)!.Value) / (double)ops : null;
            long? idle = _idleExits.GetValueOrDefault(t);
            double? exitsPerIo = stats.Length > 0 && stats.All(s => s.Exits is not null) && idle is not null
                ? VmmStats.ExitsPerOperation(stats.Sum(s => s.Exits!.Value), idle * stats.Length, ops) : null;
            return new TargetResult(t.Label, m, [.. runs.Select(x => x.Measurement)],
                t.Runner == BenchRunner.Host ? null : Percentiles.Ratio(m?.Iops, hostIops),
                Percentiles.Ratio(m?.Iops, qemuIops),
                exitsPerIo, PerIo(s => s.Doorbells),
                stats.Length > 0 && stats.All(s => s.GcCollections is not null) ? stats.Sum(s => s.GcCollections!.Value) : null,
                stats.Length > 0 && stats.All(s => s.AllocatedBytes is not null) ? stats.Max(s => s.AllocatedBytes!.Value) : null,
                _unavailable.TryGetValue(t, out string? why) ? $"not available: {why}" : errors.GetValueOrDefault(t));
        }).ToArray();
        return new WorkloadResult(w.Name, w.Kind, w.BlockSize, w.QueueDepth, w.ReadPercent, results);
    }

    private readonly HashSet<BenchTarget> _everRan = [];
    private bool HasEverRun(BenchTarget t) => _everRan.Contains(t);

    private DiscardResult RunDiscard(long size, RunSettings settings)
    {
        int count = (int)Math.Min(options.DiscardCount(size), file.Size / size);
        var runs = new Dictionary<BenchTarget, (DiscardRun? Run, long Before, long After, string? Error)>();
        foreach (var runner in runners)
        {
            progress.Begin($"discard {FormatSize(size)} x{count}  {runner.Target.Label}");
            if (_unavailable.TryGetValue(runner.Target, out string? why)) { runs[runner.Target] = (null, 0, 0, $"not available: {why}"); continue; }
            try
            {
                file.ResetForDiscard(count * size);
                long before = file.AllocatedBlocks() * 512;
                var run = runner.Discard(size, count, settings);
                runs[runner.Target] = (run, before, file.AllocatedBlocks() * 512, null);
            }
            catch (BenchException e)
            {
                progress.Note($"discard {FormatSize(size)} {runner.Target.Label}: {e.Message}");
                runs[runner.Target] = (null, 0, 0, e.Message);
            }
        }
        double? hostP99 = runs.GetValueOrDefault(BenchTarget.Host).Run?.P99;
        var results = runners.Select(r =>
        {
            var (run, before, after, error) = runs[r.Target];
            double? qemuP99 = r.Target.Runner == BenchRunner.BhyveAot ? runs.GetValueOrDefault(new BenchTarget(BenchRunner.Qemu, r.Target.Device)).Run?.P99 : null;
            return new DiscardTargetResult(r.Target.Label, run?.P50, run?.P99, run?.Max,
                run is null ? null : before, run is null ? null : after, run is null ? null : before - after, count * size,
                r.Target.Runner == BenchRunner.Host ? null : Percentiles.Ratio(run?.P99, hostP99), Percentiles.Ratio(run?.P99, qemuP99), error);
        }).ToArray();
        return new DiscardResult(size, count, results);
    }

    /// <summary>The median of each figure over rounds.</summary>
    public static Measurement MedianOf(IReadOnlyList<Measurement> rounds) => new(
        (long)Percentiles.Median([.. rounds.Select(r => (double)r.Operations)]),
        Percentiles.Median([.. rounds.Select(r => r.Seconds)]),
        Percentiles.Median([.. rounds.Select(r => r.Iops)]),
        Percentiles.Median([.. rounds.Select(r => r.MiBPerSecond)]),
        LatencySummary.MedianOf([.. rounds.Select(r => r.Latency)]));

    /// <summary>4096 -> "4K", 1 GiB -> "1G".</summary>
    public static string FormatSize(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30}G"
        : bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20}M"
        : bytes >= 1024 && bytes % 1024 == 0 ? $"{bytes >> 10}K" : $"{bytes}";
}
