namespace Bhyve.Aot.StorageBench;

/// <summary>Order statistics the suite needs: nearest-rank percentiles of samples, and the median of per-round results.</summary>
public static class Percentiles
{
    /// <summary>
    /// Nearest rank: the smallest sample with at least ceil(p/100 * n) samples at or below it (the same definition the
    /// storage-bench guest uses on its histogram). Sorts a copy; NaN for no samples.
    /// </summary>
    public static double NearestRank(IReadOnlyList<double> samples, double percent)
    {
        if (percent is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percent), "a percentile lies in 0..100");
        if (samples.Count == 0) return double.NaN;
        double[] sorted = [.. samples];
        Array.Sort(sorted);
        long rank = (long)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>The median (mean of the middle two for an even count); NaN for none.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        double[] sorted = [.. values];
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Summarises latency samples in microseconds.</summary>
    public static LatencySummary Summarize(IReadOnlyList<double> microseconds) => new(
        NearestRank(microseconds, 50), NearestRank(microseconds, 90), NearestRank(microseconds, 99), NearestRank(microseconds, 99.9));

    /// <summary>A ratio a / b, or null when either side is missing or b is zero (a ratio is never invented).</summary>
    public static double? Ratio(double? a, double? b) =>
        a is { } x && b is { } y && y > 0 && !double.IsNaN(x) && !double.IsNaN(y) ? x / y : null;
}
