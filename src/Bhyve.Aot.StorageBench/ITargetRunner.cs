namespace Bhyve.Aot.StorageBench;

/// <summary>How long each run lasts and how the file is opened; the same for every target of a suite.</summary>
/// <param name="DurationMs">time-based runs: submitting stops after this long.</param>
/// <param name="TscKhz">KVM_GET_TSC_KHZ: guests keep time and report latencies in TSC cycles.</param>
public sealed record RunSettings(int DurationMs, long TscKhz, CacheMode Cache);

/// <summary>A throughput run's measurement and, for bhyve-aot, what its --stats said.</summary>
public sealed record TargetRun(Measurement Measurement, VmmStats? Stats);

/// <summary>A discard series: count ranges of size bytes deallocated one after another; latencies per range in µs.</summary>
public sealed record DiscardRun(int Count, double P50, double P99, double Max);

/// <summary>One column of the suite: runs a workload or a discard series on the shared backing file.</summary>
public interface ITargetRunner
{
    BenchTarget Target { get; }

    /// <summary>Where the numbers come from, e.g. "fio-3.33 (io_uring engine)"; shown beside the results.</summary>
    string Description { get; }

    /// <summary>Runs one workload; throws BenchException with a one-line reason when the target cannot.</summary>
    TargetRun Run(StorageWorkload workload, RunSettings settings);

    /// <summary>
    /// A run that boots, sets the device up and prints its result line but does no I/O: the fixed exits a VM run
    /// pays whatever the workload (PCI setup, console output), subtracted before exits are divided by I/Os.
    /// Null for targets without VMM counters.
    /// </summary>
    VmmStats? Idle(RunSettings settings);

    /// <summary>Deallocates ranges [i * size, (i + 1) * size) for i below count, one at a time.</summary>
    DiscardRun Discard(long size, int count, RunSettings settings);
}
