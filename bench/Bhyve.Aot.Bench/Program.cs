using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bhyve.Aot.Bench;

/// <summary>
/// Runs the hot-path micro-benchmarks. Hot paths must not allocate: the run fails (exit 1) when any
/// benchmark reports allocated bytes, so an allocation creeping into an exit path is loud.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance);
        int failures = 0;
        foreach (Summary summary in summaries)
            foreach (var report in summary.Reports)
            {
                long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                if (bytes is > 0)
                {
                    Console.Error.WriteLine($"ALLOCATES: {report.BenchmarkCase.DisplayInfo}: {bytes} B/op");
                    failures++;
                }
            }
        return failures == 0 ? 0 : 1;
    }
}
