namespace Bhyve.Aot.StorageBench;

/// <summary>
/// The `result:` line of the storage-bench guest (native/guest/storage-bench.c), as printed: counts, elapsed TSC
/// cycles and latency percentiles in TSC cycles.
/// </summary>
public sealed record GuestResult(
    string Device,
    string Workload,
    int BlockSize,
    int QueueDepth,
    long Operations,
    long Reads,
    long Writes,
    long Flushes,
    long Discards,
    long Bytes,
    long Cycles,
    long TscKhz,
    long P50Cycles,
    long P90Cycles,
    long P99Cycles,
    long P999Cycles,
    long MinCycles,
    long MaxCycles,
    long Doorbells)
{
    /// <summary>Elapsed seconds; needs the TSC frequency (the guest's, or the host's when the guest was not told).</summary>
    public double Seconds(long tscKhz) => Cycles / (tscKhz * 1000.0);

    /// <summary>TSC cycles to microseconds.</summary>
    public static double Microseconds(long cycles, long tscKhz) => cycles * 1000.0 / tscKhz;

    /// <summary>The run as a measurement (IOPS counts operations; MiB/s counts data read and written).</summary>
    public Measurement ToMeasurement(long tscKhz)
    {
        if (tscKhz <= 0) throw new ArgumentOutOfRangeException(nameof(tscKhz), "the TSC frequency is needed to turn cycles into time");
        double seconds = Seconds(tscKhz);
        return new Measurement(
            Operations,
            seconds,
            seconds > 0 ? Operations / seconds : 0,
            seconds > 0 ? Bytes / seconds / (1 << 20) : 0,
            new LatencySummary(Microseconds(P50Cycles, tscKhz), Microseconds(P90Cycles, tscKhz),
                Microseconds(P99Cycles, tscKhz), Microseconds(P999Cycles, tscKhz)));
    }
}
