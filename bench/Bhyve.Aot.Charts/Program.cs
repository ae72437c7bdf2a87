using System.Text.Json;
using Bhyve.Aot.StorageBench;

namespace Bhyve.Aot.Charts;

/// <summary>
/// Charts of a storage benchmark run: reads results.json (written by `bhyve-aot bench storage`) and writes PNG and
/// SVG charts into charts/ beside it. A separate tool because ScottPlot and SkiaSharp are not NativeAOT-safe.
/// Usage: Bhyve.Aot.Charts RESULTS_DIR
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: Bhyve.Aot.Charts RESULTS_DIR   (the directory holding results.json)");
            return 2;
        }
        string json = Path.Combine(args[0], "results.json");
        if (!File.Exists(json))
        {
            Console.Error.WriteLine($"Bhyve.Aot.Charts: {json}: no such file");
            return 2;
        }
        var report = JsonSerializer.Deserialize(File.ReadAllText(json), StorageBenchJsonContext.Default.StorageBenchReport)
            ?? throw new InvalidDataException($"{json}: empty");
        string dir = Path.Combine(args[0], "charts");
        Directory.CreateDirectory(dir);
        foreach (string file in StorageCharts.WriteAll(report, dir)) Console.WriteLine(file);
        return 0;
    }
}
