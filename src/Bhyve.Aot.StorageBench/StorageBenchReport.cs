namespace Bhyve.Aot.StorageBench;

/// <summary>Everything one `bhyve-aot bench storage` run found, as written to results.json (read by the chart tool).</summary>
public sealed record StorageBenchReport(
    string StartedUtc,
    double WallSeconds,
    BenchEnvironment Environment,
    SuiteSettings Settings,
    TargetInfo[] Targets,
    WorkloadResult[] Workloads,
    DiscardResult[] Discard,
    Verdict[] Verdicts,
    string[] Notes);

/// <summary>The host and the versions the numbers belong to.</summary>
public sealed record BenchEnvironment(
    string Cpu,
    int LogicalCpus,
    string Kernel,
    string KvmFlavour,
    string KvmDescription,
    long TscKhz,
    string BackingFile,
    long BackingFileBytes,
    string FileSystem,
    string BhyveAotVersion,
    string DotnetRuntime,
    string? QemuVersion,
    string? FioVersion,
    string IoUringEngine);

/// <summary>How the suite ran.</summary>
public sealed record SuiteSettings(CacheMode Cache, int DurationMs, int Rounds, bool Quick, string[] Devices, bool VsQemu);

/// <summary>A column: available or why not, and where its numbers come from.</summary>
public sealed record TargetInfo(string Label, BenchRunner Runner, BenchDevice Device, bool Available, string? Unavailable, string Description);

/// <summary>One throughput workload and every target's result on it.</summary>
public sealed record WorkloadResult(string Name, WorkloadKind Kind, int BlockSize, int QueueDepth, int ReadPercent, TargetResult[] Results);

/// <summary>
/// One target on one workload: the median over rounds (runs alternate between targets), each round, the ratios
/// (IOPS over the host's, and bhyve-aot's over QEMU's on the same device kind) and bhyve-aot's counters per I/O.
/// </summary>
/// <param name="ExitsPerIo">exits to user space per operation, boot included (bhyve-aot only).</param>
/// <param name="DoorbellsPerIo">doorbells KVM caught with an ioeventfd per operation (no exit to user space).</param>
/// <param name="GcCollections">GC collections in the VMM processes of all rounds (bhyve-aot only; the target is 0).</param>
public sealed record TargetResult(
    string Target,
    Measurement? Median,
    Measurement[] Rounds,
    double? RatioToHost,
    double? RatioToQemu,
    double? ExitsPerIo,
    double? DoorbellsPerIo,
    long? GcCollections,
    long? VmmAllocatedBytes,
    string? Error);

/// <summary>The discard series for one range size.</summary>
public sealed record DiscardResult(long RangeBytes, int Count, DiscardTargetResult[] Results);

/// <summary>One target's discard latencies (µs) and the space that came back (st_blocks before and after, in bytes).</summary>
public sealed record DiscardTargetResult(
    string Target,
    double? P50,
    double? P99,
    double? Max,
    long? BytesAllocatedBefore,
    long? BytesAllocatedAfter,
    long? BytesReturned,
    long BytesDiscarded,
    double? P99RatioToHost,
    double? P99RatioToQemu,
    string? Error);

/// <summary>One of the targets: met, missed (with by how much) or not measured (Met null, and why).</summary>
public sealed record Verdict(string Name, bool? Met, string Detail);
