namespace Bhyve.Aot.StorageBench;

/// <summary>bhyve-aot itself, spawned as `bhyve-aot run ... --stats` so each run is a fresh process (as QEMU's is) and
/// its exit and GC counters come back on stderr.</summary>
public sealed class BhyveAotRunner(string binary, string guestElf, string disk, BenchDevice device) : ITargetRunner
{
    /// <summary>The guest writes 0 to the debug-exit port: (0 &lt;&lt; 1) | 1.</summary>
    private const int GuestSuccess = 1;

    public BenchTarget Target { get; } = new(BenchRunner.BhyveAot, device);
    public string Description => $"bhyve-aot run --{(device == BenchDevice.Nvme ? "nvme" : "disk")} (storage-bench guest)";

    public TargetRun Run(StorageWorkload workload, RunSettings settings)
    {
        var run = Launch(GuestCommandLine.ForWorkload(device, workload, settings), settings, TimeSpan.FromMilliseconds(settings.DurationMs) + TimeSpan.FromSeconds(60));
        var result = GuestCommandLine.Parse(run, GuestSuccess, "bhyve-aot");
        return new TargetRun(result.ToMeasurement(settings.TscKhz), VmmStats.Parse(run.Stderr));
    }

    public VmmStats? Idle(RunSettings settings)
    {
        var run = Launch(GuestCommandLine.ForWorkload(device, StorageWorkload.Standard[0], settings) + " count=0", settings, TimeSpan.FromSeconds(60));
        GuestCommandLine.Parse(run, GuestSuccess, "bhyve-aot");
        return VmmStats.Parse(run.Stderr);
    }

    public DiscardRun Discard(long size, int count, RunSettings settings)
    {
        var run = Launch(GuestCommandLine.ForDiscard(device, size, count, settings), settings, TimeSpan.FromMinutes(5));
        return GuestCommandLine.ToDiscardRun(GuestCommandLine.Parse(run, GuestSuccess, "bhyve-aot"), count, settings.TscKhz);
    }

    private ChildResult Launch(string cmdline, RunSettings settings, TimeSpan timeout)
    {
        string direct = settings.Cache == CacheMode.Direct ? ",direct" : "";
        string[] diskArgs = device == BenchDevice.Nvme
            ? ["--nvme", $"path={disk},dsm=enable{direct}"]
            : ["--disk", $"path={disk},discard=unmap{direct}"];
        return ChildProcess.Run(binary, ["run", "--kernel", guestElf, "--memory", "64M", "--cmdline", cmdline, .. diskArgs, "--stats"], timeout);
    }
}
