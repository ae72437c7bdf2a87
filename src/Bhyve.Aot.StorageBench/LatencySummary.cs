namespace Bhyve.Aot.StorageBench;

/// <summary>Latency percentiles of one run, in microseconds (from submission to completion as the issuer sees it).</summary>
public sealed record LatencySummary(double P50, double P90, double P99, double P999)
{
    /// <summary>The per-round medians of each percentile (rounds of the same workload and target).</summary>
    public static LatencySummary MedianOf(IReadOnlyList<LatencySummary> rounds) => new(
        Percentiles.Median([.. rounds.Select(r => r.P50)]),
        Percentiles.Median([.. rounds.Select(r => r.P90)]),
        Percentiles.Median([.. rounds.Select(r => r.P99)]),
        Percentiles.Median([.. rounds.Select(r => r.P999)]));
}
