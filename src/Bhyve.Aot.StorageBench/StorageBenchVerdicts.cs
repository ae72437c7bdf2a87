using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// The issue's targets, judged from one report: bhyve-aot beats QEMU on every throughput workload per device kind;
/// 4K QD32 reads reach 85% of host io_uring IOPS; discard p99 no worse than QEMU's and within 1.5x of host fallocate;
/// no GC in the VMM during a run. Unmeasured targets say why instead of passing.
/// </summary>
public static class StorageBenchVerdicts
{
    public const double HostIopsShare = 0.85;
    public const double DiscardVsHost = 1.5;

    public static IEnumerable<Verdict> Evaluate(StorageBenchReport r)
    {
        foreach (var target in r.Targets.Where(t => t.Runner == BenchRunner.BhyveAot))
        {
            var device = target.Device;
            if (!target.Available)
            {
                // One line, not one per workload: nothing of this device was measured.
                yield return new Verdict($"{target.Label}: every target", null, $"not measured: {target.Label} not available ({target.Unavailable})");
                continue;
            }
            string bhyve = new BenchTarget(BenchRunner.BhyveAot, device).Label, qemu = new BenchTarget(BenchRunner.Qemu, device).Label;
            foreach (var w in r.Workloads)
            {
                var b = w.Results.FirstOrDefault(x => x.Target == bhyve);
                var q = w.Results.FirstOrDefault(x => x.Target == qemu);
                string name = $"{bhyve} beats QEMU: {w.Name}";
                if (b?.Median is null) yield return new Verdict(name, null, $"not measured: {b?.Error ?? "no result"}");
                else if (q?.Median is null) yield return new Verdict(name, null, $"not measured: QEMU {(q?.Error ?? "was not run (--vs qemu)")}");
                else yield return new Verdict(name, b.Median.Iops > q.Median.Iops,
                    F($"{b.Median.Iops:0} vs {q.Median.Iops:0} IOPS ({b.Median.Iops / q.Median.Iops:0.00}x)"));
            }
            var qd32 = r.Workloads.FirstOrDefault(w => w.Name == "4k-randread-qd32");
            var bq = qd32?.Results.FirstOrDefault(x => x.Target == bhyve);
            var host = qd32?.Results.FirstOrDefault(x => x.Target == "host");
            string hostName = F($"{bhyve} reaches {HostIopsShare * 100:0}% of host io_uring IOPS at 4K QD32");
            if (bq?.Median is null || host?.Median is null) yield return new Verdict(hostName, null, $"not measured: {bq?.Error ?? host?.Error ?? "no result"}");
            else yield return new Verdict(hostName, bq.Median.Iops >= HostIopsShare * host.Median.Iops,
                F($"{bq.Median.Iops:0} vs {host.Median.Iops:0} IOPS ({100 * bq.Median.Iops / host.Median.Iops:0}%)"));

            foreach (var d in r.Discard)
            {
                var bd = d.Results.FirstOrDefault(x => x.Target == bhyve);
                var qd = d.Results.FirstOrDefault(x => x.Target == qemu);
                var hd = d.Results.FirstOrDefault(x => x.Target == "host");
                string size = StorageBenchSuite.FormatSize(d.RangeBytes);
                string qName = $"{bhyve} discard {size} p99 no worse than QEMU";
                if (bd?.P99 is null || qd?.P99 is null) yield return new Verdict(qName, null, $"not measured: {bd?.Error ?? qd?.Error ?? "QEMU was not run"}");
                else yield return new Verdict(qName, bd.P99 <= qd.P99, F($"{bd.P99:0.0} vs {qd.P99:0.0} us ({bd.P99 / qd.P99:0.00}x)"));
                string hName = $"{bhyve} discard {size} p99 within {DiscardVsHost}x of host fallocate";
                if (bd?.P99 is null || hd?.P99 is null) yield return new Verdict(hName, null, $"not measured: {bd?.Error ?? hd?.Error ?? "no result"}");
                else yield return new Verdict(hName, bd.P99 <= DiscardVsHost * hd.P99, F($"{bd.P99:0.0} vs {hd.P99:0.0} us ({bd.P99 / hd.P99:0.00}x)"));
            }

            var gcRuns = r.Workloads.Select(w => w.Results.FirstOrDefault(x => x.Target == bhyve)).Where(x => x?.GcCollections is not null).ToArray();
            if (gcRuns.Length > 0)
            {
                long gcs = gcRuns.Sum(x => x!.GcCollections!.Value);
                yield return new Verdict($"{bhyve}: no GC during a storage run", gcs == 0, $"{gcs} collections over {gcRuns.Length} workloads");
            }
        }
    }

    /// <summary>Facts a reader needs beside the numbers (where they come from, what they include).</summary>
    public static IEnumerable<string> Notes(StorageBenchReport r)
    {
        foreach (var t in r.Targets.Where(t => !t.Available)) yield return $"{t.Label}: not available ({t.Unavailable})";
        var host = r.Targets.FirstOrDefault(t => t.Runner == BenchRunner.Host);
        if (host is not null) yield return $"host: {host.Description}";
        yield return "VM latencies are measured in the guest with the TSC (submission to completion as the polled driver sees it); host latencies by fio (lat_ns) or Stopwatch.";
        yield return "flush-heavy writes: one operation is a 4K write followed by a flush; for fio the latency is its write p + fdatasync p (an upper bound).";
        yield return "exits/IO: exits to user space of a bhyve-aot run (port I/O left out: that is the guest's serial console) minus those of an idle run (same guest and device set-up, no I/O), over the run's operations; doorbells/IO: notifications KVM caught with an ioeventfd (not exits to user space).";
        yield return "discard: before each target's series the ranges are punched and allocated again (fallocate mode 0), so every target frees the same fresh extents; a series deallocates distinct consecutive ranges one at a time.";
        if (r.Environment.KvmFlavour == "kvm_pvm")
            yield return "this host's KVM is kvm_pvm (nested, page-table based): an exit to user space costs about 22 us and an ioeventfd doorbell about 6.6 us, so absolute VM numbers are far below bare metal; compare ratios.";
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
