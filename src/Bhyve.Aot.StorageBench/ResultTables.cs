using System.Globalization;
using System.Text;

namespace Bhyve.Aot.StorageBench;

/// <summary>The report as tables: aligned text for the terminal and summary.txt, Markdown for results.md and bench/README.md.</summary>
public static class ResultTables
{
    private static readonly string[] WorkloadHeader = ["target", "IOPS", "MiB/s", "p50 us", "p90 us", "p99 us", "p99.9 us", "vs host", "vs QEMU", "exits/IO", "doorbells/IO", "GCs"];
    private static readonly string[] DiscardHeader = ["target", "p50 us", "p99 us", "max us", "p99 vs host", "p99 vs QEMU", "discarded", "returned"];

    public static string Render(StorageBenchReport report, bool markdown)
    {
        var sb = new StringBuilder();
        var env = report.Environment;
        sb.AppendLine(markdown ? "## Environment\n" : "Environment");
        sb.AppendLine(Line(markdown, $"CPU: {env.Cpu} ({env.LogicalCpus} logical CPUs); kernel {env.Kernel}; KVM: {env.KvmFlavour}; TSC {env.TscKhz} kHz"));
        sb.AppendLine(Line(markdown, $"backing file: {env.BackingFile} ({StorageBenchSuite.FormatSize(env.BackingFileBytes)}) on {env.FileSystem}; cache: {(report.Settings.Cache == CacheMode.Direct ? "direct (O_DIRECT, QEMU cache=none)" : "buffered (page cache, QEMU cache=writeback)")}; {report.Settings.DurationMs} ms per run, {report.Settings.Rounds} round(s){(report.Settings.Quick ? ", quick" : "")}"));
        sb.AppendLine(Line(markdown, $"versions: bhyve-aot {env.BhyveAotVersion} ({env.DotnetRuntime}), {env.QemuVersion ?? "QEMU not run"}, {env.FioVersion ?? "fio not installed"}; block engine {env.IoUringEngine}"));
        sb.AppendLine();
        foreach (var w in report.Workloads)
        {
            sb.AppendLine(markdown ? $"### {w.Name}\n" : w.Name);
            var rows = w.Results.Select(r => r.Median is null
                ? new[] { r.Target, r.Error ?? "no result", "", "", "", "", "", "", "", "", "", "" }
                : [r.Target, N(r.Median.Iops, "0"), N(r.Median.MiBPerSecond, "0.0"), N(r.Median.Latency.P50, "0.0"), N(r.Median.Latency.P90, "0.0"),
                   N(r.Median.Latency.P99, "0.0"), N(r.Median.Latency.P999, "0.0"), X(r.RatioToHost), X(r.RatioToQemu),
                   N(r.ExitsPerIo, "0.000"), N(r.DoorbellsPerIo, "0.00"), r.GcCollections?.ToString(CultureInfo.InvariantCulture) ?? ""]).ToList();
            Table(sb, WorkloadHeader, rows, markdown);
        }
        foreach (var d in report.Discard)
        {
            sb.AppendLine(markdown ? $"### discard {StorageBenchSuite.FormatSize(d.RangeBytes)} x{d.Count}\n" : $"discard {StorageBenchSuite.FormatSize(d.RangeBytes)} x{d.Count}");
            var rows = d.Results.Select(r => r.P99 is null
                ? new[] { r.Target, r.Error ?? "no result", "", "", "", "", "", "" }
                : [r.Target, N(r.P50, "0.0"), N(r.P99, "0.0"), N(r.Max, "0.0"), X(r.P99RatioToHost), X(r.P99RatioToQemu),
                   StorageBenchSuite.FormatSize(r.BytesDiscarded), r.BytesReturned is { } b ? Mib(b) : ""]).ToList();
            Table(sb, DiscardHeader, rows, markdown);
        }
        sb.AppendLine(markdown ? "## Targets\n" : "Targets");
        if (markdown) { sb.AppendLine("| target | result | detail |"); sb.AppendLine("|---|---|---|"); }
        foreach (var v in report.Verdicts)
        {
            string mark = v.Met switch { true => "met", false => "MISSED", null => "not measured" };
            sb.AppendLine(markdown ? $"| {v.Name} | {mark} | {v.Detail} |" : $"  {mark,-12} {v.Name}: {v.Detail}");
        }
        sb.AppendLine();
        sb.AppendLine(markdown ? "## Notes\n" : "Notes");
        foreach (string n in report.Notes) sb.AppendLine(markdown ? $"- {n}" : $"  - {n}");
        return sb.ToString();
    }

    private static string Line(bool markdown, string text) => markdown ? text + "  " : "  " + text;

    private static void Table(StringBuilder sb, string[] header, List<string[]> rows, bool markdown)
    {
        if (markdown)
        {
            sb.AppendLine("| " + string.Join(" | ", header) + " |");
            sb.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
            foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", r) + " |");
        }
        else
        {
            // A row whose second cell is a message (not available, an error) is not aligned into columns.
            var aligned = rows.Where(r => r[2].Length > 0).Prepend(header).ToList();
            int[] widths = [.. header.Select((_, i) => aligned.Max(r => r[i].Length))];
            foreach (var r in rows.Prepend(header))
            {
                if (r[2].Length == 0 && r != header) { sb.AppendLine($"  {r[0].PadRight(widths[0])}  {r[1]}"); continue; }
                sb.AppendLine("  " + string.Join("  ", r.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
            }
        }
        sb.AppendLine();
    }

    private static string N(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "";
    private static string X(double? v) => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "";
    private static string Mib(long bytes) => (bytes / (double)(1 << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
