using System.Text.Json;
using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class ResultTablesTests
{
    private readonly StorageBenchReport _report = SampleReports.Make(9000, 5000, 10000, 100, 120, 80);

    [Fact]
    public void Text_tables_align_numbers_and_show_unavailable_targets_as_a_sentence()
    {
        string text = ResultTables.Render(_report, markdown: false);
        string[] lines = text.Split('\n');
        Assert.Contains("4k-randread-qd32", text);
        string bhyve = lines.First(l => l.TrimStart().StartsWith("bhyve-aot virtio-blk", StringComparison.Ordinal) && l.Contains("9000"));
        Assert.Contains("0.90x", bhyve);      // vs host
        Assert.Contains("1.80x", bhyve);      // vs QEMU
        Assert.Contains(lines, l => l.Contains("bhyve-aot nvme") && l.Contains("not available: --nvme is not supported yet"));
        Assert.Contains("met", text);
        Assert.Contains("not measured", text);
    }

    [Fact]
    public void Markdown_tables_have_one_row_per_target()
    {
        string md = ResultTables.Render(_report, markdown: true);
        Assert.Contains("| target | IOPS | MiB/s | p50 us | p90 us | p99 us | p99.9 us | vs host | vs QEMU | exits/IO | doorbells/IO | GCs |", md);
        Assert.Contains("| bhyve-aot virtio-blk | 9000 |", md);
        Assert.Contains("### discard 1M x8", md);
        Assert.Contains("| host | 40.0 | 80.0 | 80.0 |", md);
    }

    [Fact]
    public void Json_round_trips_through_the_source_generated_context()
    {
        string json = JsonSerializer.Serialize(_report, StorageBenchJsonContext.Default.StorageBenchReport);
        Assert.Contains("\"runner\": \"bhyve-aot\"", json);
        Assert.Contains("\"device\": \"virtio-blk\"", json);
        Assert.Contains("\"kind\": \"randread\"", json);
        Assert.Contains("\"cache\": \"direct\"", json);
        var back = JsonSerializer.Deserialize(json, StorageBenchJsonContext.Default.StorageBenchReport)!;
        Assert.Equal(_report.Workloads[1].Results[0].Median!.Iops, back.Workloads[1].Results[0].Median!.Iops);
        Assert.Equal(_report.Verdicts.Length, back.Verdicts.Length);
        Assert.Equal(_report.Environment, back.Environment);
    }

    [Fact]
    public void Json_is_snake_case_as_everything_bhyve_aot_writes()
    {
        string json = JsonSerializer.Serialize(_report, StorageBenchJsonContext.Default.StorageBenchReport);
        Assert.Contains("\"started_utc\":", json);
        Assert.Contains("\"mib_per_second\":", json);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(json, "\"([^\"]+)\":"))
            Assert.Equal(m.Groups[1].Value.ToLowerInvariant(), m.Groups[1].Value);
    }

    [Theory]
    [InlineData("bench/results-latest/results.json")]
    [InlineData("bench/results-quiet/results.json")]
    public void Committed_results_read_back_with_the_suites_own_context(string file)
    {
        var report = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(Support.Repo.Root, file)), StorageBenchJsonContext.Default.StorageBenchReport)!;
        Assert.NotEmpty(report.Workloads);
        Assert.Contains(report.Workloads, w => w.Results.Any(r => r.Median is { Iops: > 0, MiBPerSecond: > 0 }));
    }
}
