using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class PercentilesTests
{
    [Fact]
    public void Nearest_rank_picks_the_smallest_sample_covering_the_rank()
    {
        double[] s = [.. Enumerable.Range(1, 100).Select(i => (double)(101 - i))];   // 100..1, unsorted on purpose
        Assert.Equal(50, Percentiles.NearestRank(s, 50));
        Assert.Equal(90, Percentiles.NearestRank(s, 90));
        Assert.Equal(99, Percentiles.NearestRank(s, 99));
        Assert.Equal(100, Percentiles.NearestRank(s, 99.9));
        Assert.Equal(1, Percentiles.NearestRank(s, 0));
        Assert.Equal(100, Percentiles.NearestRank(s, 100));
        Assert.Equal(7, Percentiles.NearestRank([7], 99));
        Assert.True(double.IsNaN(Percentiles.NearestRank([], 50)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank(s, 101));
    }

    [Fact]
    public void Two_samples_give_the_larger_one_from_p51_up()
    {
        Assert.Equal(1, Percentiles.NearestRank([2, 1], 50));
        Assert.Equal(2, Percentiles.NearestRank([2, 1], 51));
    }

    [Fact]
    public void Median_of_odd_and_even_counts()
    {
        Assert.Equal(3, Percentiles.Median([5, 1, 3]));
        Assert.Equal(2.5, Percentiles.Median([4, 1, 3, 2]));
        Assert.True(double.IsNaN(Percentiles.Median([])));
    }

    [Fact]
    public void A_ratio_is_never_invented_from_a_missing_or_zero_side()
    {
        Assert.Equal(2.0, Percentiles.Ratio(10, 5));
        Assert.Null(Percentiles.Ratio(null, 5));
        Assert.Null(Percentiles.Ratio(10, null));
        Assert.Null(Percentiles.Ratio(10, 0));
        Assert.Null(Percentiles.Ratio(double.NaN, 1));
    }

    [Fact]
    public void Medians_of_rounds_are_taken_figure_by_figure()
    {
        var a = new Measurement(100, 1, 100, 1, new LatencySummary(1, 2, 3, 4));
        var b = new Measurement(300, 1, 300, 3, new LatencySummary(5, 6, 7, 8));
        var c = new Measurement(200, 1, 200, 2, new LatencySummary(9, 1, 1, 1));
        var m = StorageBenchSuite.MedianOf([a, b, c]);
        Assert.Equal(200, m.Iops);
        Assert.Equal(2, m.MiBPerSecond);
        Assert.Equal(new LatencySummary(5, 2, 3, 4), m.Latency);
    }

    [Theory]
    [InlineData(4096, "4K")]
    [InlineData(1 << 20, "1M")]
    [InlineData(64L << 20, "64M")]
    [InlineData(1L << 30, "1G")]
    [InlineData(1000, "1000")]
    public void Sizes_are_written_short(long bytes, string text) => Assert.Equal(text, StorageBenchSuite.FormatSize(bytes));
}
