using System.Text.Json;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// Reads `fio --output-format=json` (fio 3.x) for one job run with --lat_percentiles=1 and
/// --percentile_list=50:90:99:99.9. JsonDocument only: no reflection, so it is AOT-safe.
/// </summary>
public static class FioResultParser
{
    /// <summary>
    /// The measurement for a workload. Reads come from "read", writes from "write", the mixed workload from "mixed"
    /// (--unified_rw_reporting=mixed). Flush-heavy writes: one operation = one write + its fdatasync, so the latency
    /// percentiles are the write's plus the sync's (an upper bound of the pair's percentile, noted in the report).
    /// </summary>
    public static Measurement Parse(string json, WorkloadKind kind)
    {
        // fio may print warnings before the document.
        int start = json.IndexOf('{');
        if (start < 0) throw new FormatException("fio printed no JSON");
        using var doc = JsonDocument.Parse(json.AsMemory(start));
        if (!doc.RootElement.TryGetProperty("jobs", out var jobs) || jobs.GetArrayLength() == 0)
            throw new FormatException("fio JSON has no jobs");
        var job = jobs[0];
        if (job.TryGetProperty("error", out var error) && error.GetInt32() != 0)
            throw new FormatException($"fio job failed with error {error.GetInt32()}");
        string section = kind switch
        {
            WorkloadKind.RandRead or WorkloadKind.SeqRead => "read",
            WorkloadKind.Mixed => "mixed",
            _ => "write",
        };
        var io = Section(job, section);
        long ops = io.GetProperty("total_ios").GetInt64();
        double seconds = io.GetProperty("runtime").GetDouble() / 1000.0;
        long bytes = io.GetProperty("io_bytes").GetInt64();
        var latency = LatencyOf(io, section);
        if (kind == WorkloadKind.FlushWrite)
        {
            var sync = LatencyOf(Section(job, "sync"), "sync");
            latency = new LatencySummary(latency.P50 + sync.P50, latency.P90 + sync.P90, latency.P99 + sync.P99, latency.P999 + sync.P999);
        }
        if (ops == 0 || seconds <= 0) throw new FormatException($"fio did no {section} I/O");
        return new Measurement(ops, seconds, ops / seconds, bytes / seconds / (1 << 20), latency);
    }

    private static JsonElement Section(JsonElement job, string name) =>
        job.TryGetProperty(name, out var s) ? s : throw new FormatException($"fio JSON has no '{name}' section");

    private static LatencySummary LatencyOf(JsonElement io, string section)
    {
        if (!io.TryGetProperty("lat_ns", out var lat) || !lat.TryGetProperty("percentile", out var p))
            throw new FormatException($"fio '{section}': no lat_ns percentiles (run it with --lat_percentiles=1)");
        double Us(string key) => p.TryGetProperty(key, out var v) ? v.GetDouble() / 1000.0
            : throw new FormatException($"fio '{section}': no {key} percentile (run it with --percentile_list=50:90:99:99.9)");
        return new LatencySummary(Us("50.000000"), Us("90.000000"), Us("99.000000"), Us("99.900000"));
    }

    /// <summary>fio's own version line, e.g. "fio-3.33" (from `fio --version`).</summary>
    public static string ParseVersion(string output) => output.Trim().Split('\n')[0].Trim();
}
