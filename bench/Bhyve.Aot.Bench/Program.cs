using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bhyve.Aot.Bench;

/// <summary>
/// Runs the hot-path micro-benchmarks. Hot paths must not allocate: the run fails (exit 1) when any
/// benchmark reports allocated bytes, so an allocation creeping into an exit path is loud. A benchmark that did
/// not run (build failure, exception in setup) or ran without the memory diagnoser fails the run too: no number
/// is not zero bytes.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // The generated benchmark project takes more than BenchmarkDotNet's default 2 minutes to build on a busy 2-core machine.
        var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        int failures = 0, checkedCount = 0;
        foreach (Summary summary in summaries)
        {
            foreach (var validationError in summary.ValidationErrors.Where(e => e.IsCritical))
            {
                Console.Error.WriteLine($"INVALID: {validationError.Message}");
                failures++;
            }
            foreach (var benchmark in summary.BenchmarksCases)
            {
                var report = summary.Reports.FirstOrDefault(r => r.BenchmarkCase == benchmark);
                if (report is null || !report.Success)
                {
                    Console.Error.WriteLine($"DID NOT RUN: {benchmark.DisplayInfo}");
                    failures++;
                    continue;
                }
                long? bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmark);
                if (bytes is null)
                {
                    Console.Error.WriteLine($"NO ALLOCATION FIGURE: {benchmark.DisplayInfo} (is [MemoryDiagnoser] on its class?)");
                    failures++;
                }
                else if (bytes > 0)
                {
                    Console.Error.WriteLine($"ALLOCATES: {benchmark.DisplayInfo}: {bytes} B/op");
                    failures++;
                }
                checkedCount++;
            }
        }
        if (checkedCount == 0)
        {
            Console.Error.WriteLine("NOTHING RAN: no benchmark matched or the arguments were refused");
            failures++;
        }
        Console.Error.WriteLine(failures == 0
            ? $"micro-benchmarks: {checkedCount} checked, 0 bytes allocated per operation in every one"
            : $"micro-benchmarks: {failures} problem(s), see above");
        return failures == 0 ? 0 : 1;
    }
}
