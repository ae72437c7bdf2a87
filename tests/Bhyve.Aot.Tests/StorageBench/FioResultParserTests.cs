using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

/// <summary>fio 3.33 output (trimmed from real runs on this machine to the fields the parser reads).</summary>
public sealed class FioResultParserTests
{
    private const string FlushWrite = """
        {"fio version": "fio-3.33", "jobs": [{"jobname": "w", "error": 0, "write": {"io_bytes": 921600, "iops": 224.550898, "runtime": 1002, "total_ios": 225, "lat_ns": {"min": 78386, "max": 8061413, "mean": 1319718.706667, "percentile": {"50.000000": 248832, "90.000000": 4014080, "99.000000": 8028160, "99.900000": 8093696}}}, "sync": {"total_ios": 0, "lat_ns": {"min": 245517, "max": 13333832, "mean": 3114565.724444, "percentile": {"50.000000": 2342912, "90.000000": 7045120, "99.000000": 12517376, "99.900000": 13303808}}}}]}
        """;

    private const string Mixed = """
        {"fio version": "fio-3.33", "jobs": [{"jobname": "w", "error": 0, "mixed": {"io_bytes": 140025856, "iops": 34083.748754, "runtime": 1003, "total_ios": 34186, "lat_ns": {"min": 2044, "max": 35935502, "mean": 935875.457673, "percentile": {"50.000000": 164864, "90.000000": 2277376, "99.000000": 10813440, "99.900000": 22937600}}}}]}
        """;

    [Fact]
    public void Mixed_reads_the_unified_section()
    {
        var m = FioResultParser.Parse(Mixed, WorkloadKind.Mixed);
        Assert.Equal(34186, m.Operations);
        Assert.Equal(1.003, m.Seconds, 9);
        Assert.Equal(34186 / 1.003, m.Iops, 6);
        Assert.Equal(140025856 / 1.003 / (1 << 20), m.MiBPerSecond, 6);
        Assert.Equal(164.864, m.Latency.P50, 9);
        Assert.Equal(22937.6, m.Latency.P999, 9);
    }

    [Fact]
    public void Flush_heavy_writes_add_the_sync_percentiles_to_the_write_ones()
    {
        var m = FioResultParser.Parse(FlushWrite, WorkloadKind.FlushWrite);
        Assert.Equal(225, m.Operations);
        Assert.Equal((248832 + 2342912) / 1000.0, m.Latency.P50, 9);
        Assert.Equal((8028160 + 12517376) / 1000.0, m.Latency.P99, 9);
    }

    [Fact]
    public void Warnings_before_the_document_are_skipped()
    {
        var m = FioResultParser.Parse("fio: some warning\n" + Mixed, WorkloadKind.Mixed);
        Assert.Equal(34186, m.Operations);
    }

    [Fact]
    public void A_missing_section_or_percentiles_is_an_error_that_names_it()
    {
        Assert.Contains("'read'", Assert.Throws<FormatException>(() => FioResultParser.Parse(Mixed, WorkloadKind.RandRead)).Message);
        string noPercentiles = Mixed.Replace("\"percentile\"", "\"other\"");
        Assert.Contains("--lat_percentiles=1", Assert.Throws<FormatException>(() => FioResultParser.Parse(noPercentiles, WorkloadKind.Mixed)).Message);
        Assert.Contains("error 5", Assert.Throws<FormatException>(() => FioResultParser.Parse(Mixed.Replace("\"error\": 0", "\"error\": 5"), WorkloadKind.Mixed)).Message);
        Assert.Throws<FormatException>(() => FioResultParser.Parse("fio: file not found", WorkloadKind.Mixed));
    }

    [Fact]
    public void Fio_arguments_match_the_workload()
    {
        var w = StorageWorkload.Standard.Single(x => x.Name == "4k-mixed70-qd32");
        var args = HostRunner.FioArguments("/var/tmp/f.img", 1 << 30, w, new RunSettings(1500, 1, CacheMode.Direct));
        Assert.Contains("--ioengine=io_uring", args);
        Assert.Contains("--direct=1", args);
        Assert.Contains("--bs=4096", args);
        Assert.Contains("--iodepth=32", args);
        Assert.Contains("--runtime=1500ms", args);
        Assert.Contains("--rw=randrw", args);
        Assert.Contains("--rwmixread=70", args);
        Assert.Contains("--unified_rw_reporting=mixed", args);
        var flush = HostRunner.FioArguments("/f", 1 << 20, StorageWorkload.Standard.Single(x => x.Kind == WorkloadKind.FlushWrite), new RunSettings(100, 1, CacheMode.Buffered));
        Assert.Contains("--fdatasync=1", flush);
        Assert.Contains("--direct=0", flush);
    }
}
