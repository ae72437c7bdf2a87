using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>The storage-bench guest's command line for a workload or a discard series (see native/guest/storage-bench.c).</summary>
public static class GuestCommandLine
{
    public static string ForWorkload(BenchDevice device, StorageWorkload w, RunSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"dev={BenchTarget.DeviceName(device)} wl={w.GuestName} bs={w.BlockSize} qd={w.QueueDepth} rmix={w.ReadPercent} ms={s.DurationMs} tsc_khz={s.TscKhz}");

    public static string ForDiscard(BenchDevice device, long size, int count, RunSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"dev={BenchTarget.DeviceName(device)} wl=discard bs={size} qd=1 count={count} tsc_khz={s.TscKhz}");

    /// <summary>Checks the guest ran what was asked and turns its result into a discard run.</summary>
    public static DiscardRun ToDiscardRun(GuestResult r, int count, long tscKhz)
    {
        if (r.Discards != count) throw new BenchException($"guest deallocated {r.Discards} ranges, not {count}");
        return new DiscardRun(count, GuestResult.Microseconds(r.P50Cycles, tscKhz), GuestResult.Microseconds(r.P99Cycles, tscKhz),
            GuestResult.Microseconds(r.MaxCycles, tscKhz));
    }

    /// <summary>A VM run's console output to a result; a failed run becomes a BenchException with the reason.</summary>
    public static GuestResult Parse(ChildResult run, int expectedExit, string vmm)
    {
        try
        {
            var result = GuestOutputParser.ParseTranscript(run.Stdout);
            if (run.ExitCode != expectedExit) throw new BenchException($"{vmm} exited with status {run.ExitCode}: {run.Reason()}");
            return result;
        }
        catch (FormatException e)
        {
            throw new BenchException(run.ExitCode == expectedExit ? $"{vmm}: {e.Message}" : $"{vmm} exited with status {run.ExitCode}: {(e.Message.StartsWith("guest:", StringComparison.Ordinal) ? e.Message : run.Reason())}");
        }
    }
}
