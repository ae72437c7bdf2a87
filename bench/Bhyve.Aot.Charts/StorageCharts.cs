using Bhyve.Aot.StorageBench;
using ScottPlot;

namespace Bhyve.Aot.Charts;

/// <summary>The suite's charts: IOPS against the host per workload, p99 latency per workload, discard p99 per range size.</summary>
public static class StorageCharts
{
    private const int Width = 1100, Height = 520;

    /// <summary>Writes every chart as PNG and SVG; returns the files written.</summary>
    public static IEnumerable<string> WriteAll(StorageBenchReport report, string dir)
    {
        string[] targets = [.. report.Targets.Where(t => t.Available).Select(t => t.Label)];
        string[] vmTargets = [.. targets.Where(t => t != "host")];
        string[] workloads = [.. report.Workloads.Select(w => w.Name)];

        double? Ratio(WorkloadResult w, string t) => w.Results.FirstOrDefault(r => r.Target == t)?.RatioToHost;
        foreach (string f in Save(Grouped("IOPS relative to host io_uring on the same file (1.0 = host)", workloads, vmTargets,
                     (i, t) => Ratio(report.Workloads[i], t), "x host IOPS", log: false), dir, "iops-vs-host"))
            yield return f;

        double? P99(WorkloadResult w, string t) => w.Results.FirstOrDefault(r => r.Target == t)?.Median?.Latency.P99;
        foreach (string f in Save(Grouped("p99 latency per workload (us, log scale)", workloads, targets,
                     (i, t) => P99(report.Workloads[i], t), "p99 latency (us)", log: true), dir, "latency-p99"))
            yield return f;

        string[] sizes = [.. report.Discard.Select(d => "discard " + StorageBenchSuite.FormatSize(d.RangeBytes))];
        double? DiscardP99(DiscardResult d, string t) => d.Results.FirstOrDefault(r => r.Target == t)?.P99;
        foreach (string f in Save(Grouped("discard p99 latency per range size (us, log scale)", sizes, targets,
                     (i, t) => DiscardP99(report.Discard[i], t), "p99 latency (us)", log: true), dir, "discard-p99"))
            yield return f;
    }

    /// <summary>Bars grouped by category, one colour per series; a missing value leaves a gap (never a zero bar).</summary>
    private static Plot Grouped(string title, string[] categories, string[] series, Func<int, string, double?> value, string yLabel, bool log)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double groupWidth = 0.8, barWidth = groupWidth / Math.Max(1, series.Length);
        var bars = new List<Bar>();
        double max = 0;
        for (int c = 0; c < categories.Length; c++)
            for (int s = 0; s < series.Length; s++)
            {
                if (value(c, series[s]) is not { } v || double.IsNaN(v) || v <= 0) continue;
                double shown = log ? Math.Log10(v) : v;
                max = Math.Max(max, shown);
                bars.Add(new Bar
                {
                    Position = c - groupWidth / 2 + barWidth * (s + 0.5),
                    Value = shown,
                    ValueBase = 0,
                    Size = barWidth * 0.9,
                    FillColor = palette.GetColor(s),
                    LineWidth = 0,
                });
            }
        plot.Add.Bars(bars);
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        for (int s = 0; s < series.Length; s++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = palette.GetColor(s) });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, categories.Length).Select(i => (double)i)], categories);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
        if (log)
        {
            int top = (int)Math.Ceiling(max) + 1;
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. Enumerable.Range(0, top + 1).Select(i => (double)i)],
                [.. Enumerable.Range(0, top + 1).Select(i => Math.Pow(10, i).ToString("#,0", System.Globalization.CultureInfo.InvariantCulture))]);
            plot.Axes.SetLimitsY(0, top);
        }
        else
        {
            plot.Axes.SetLimitsY(0, Math.Max(1.1, max * 1.15));
            var one = plot.Add.HorizontalLine(1.0);   // the host: what the ratio is taken against
            one.LinePattern = LinePattern.Dashed;
            one.Color = Colors.Black;
        }
        plot.Axes.SetLimitsX(-0.6, categories.Length - 0.4);
        plot.Title(title);
        plot.YLabel(yLabel);
        return plot;
    }

    private static IEnumerable<string> Save(Plot plot, string dir, string name)
    {
        string png = Path.Combine(dir, name + ".png"), svg = Path.Combine(dir, name + ".svg");
        plot.SavePng(png, Width, Height);
        plot.SaveSvg(svg, Width, Height);
        return [png, svg];
    }
}
