using System.Text.Json;
using Bhyve.Aot.Host;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// `bhyve-aot bench storage` from options to files: checks the tools, prepares the backing file, runs the suite,
/// prints the tables and writes results.json, results.md and summary.txt. Returns the process exit status.
/// </summary>
public static class StorageBenchProgram
{
    public static int Run(StorageBenchOptions o, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        if (o.GuestElf is { } given && !File.Exists(given)) throw new BenchException($"{given}: no such guest (build it with `make guests`, or leave out --guest for the built-in one)");
        if (!File.Exists(o.BhyveBinary)) throw new BenchException($"{o.BhyveBinary}: bhyve-aot binary not found");
        if (o.DurationMs is < 50 or > 3_600_000) throw new BenchException("--duration: between 50ms and 1h");
        if (o.Rounds is < 1 or > 100) throw new BenchException("--rounds: between 1 and 100");

        var host = HostProbe.Probe();
        if (!host.CanRunVms) throw new HostUnsupportedException(host.Problems.FirstOrDefault() ?? "this host cannot run VMs (see `bhyve-aot check`)");
        if (host.SmokeTest.TscKhz is not > 0) throw new HostUnsupportedException("KVM_GET_TSC_KHZ gave no TSC frequency: guest timings cannot be converted");

        string? qemu = o.VsQemu ? ChildProcess.FindInPath("qemu-system-x86_64") : null;
        string? fio = ChildProcess.FindInPath("fio");

        using var file = ByteSize.TryParse(o.Disk, out ulong size)
            ? BackingFile.CreateTemporary(o.ScratchDirectory, (long)size)
            : BackingFile.OpenExisting(o.Disk);
        if (file.Path.Contains(',')) throw new BenchException($"--disk: {file.Path}: a path with a comma cannot be passed to QEMU's -drive or bhyve-aot's --disk");

        using var embedded = o.GuestElf is null ? EmbeddedGuest.Extract() : null;
        string guest = o.GuestElf ?? embedded!.Path;
        var env = BenchEnvironmentProbe.Probe(host, file, qemu, fio);
        var runners = new List<ITargetRunner>();
        var unavailable = new Dictionary<BenchTarget, string>();
        foreach (var device in o.Devices)
        {
            runners.Add(new BhyveAotRunner(o.BhyveBinary, guest, file.Path, device));
            if (!o.VsQemu) continue;
            if (qemu is not null) runners.Add(new QemuRunner(qemu, guest, file.Path, device));
            else unavailable[new BenchTarget(BenchRunner.Qemu, device)] = "qemu-system-x86_64 not found in PATH";
        }
        runners.Add(new HostRunner(fio, env.FioVersion, file));

        var progress = new ProgressDisplay(stderr, interactive, StorageBenchSuite.CountSteps(o, runners.Count));
        stderr.WriteLine($"bhyve-aot bench storage: {runners.Count} targets, {StorageWorkload.Standard.Count} workloads x {o.Rounds} round(s) of {o.DurationMs} ms, discard {string.Join("/", o.DiscardSizes.Select(StorageBenchSuite.FormatSize))}; host baseline: {(fio is null ? "own io_uring loop (fio not installed)" : env.FioVersion)}");
        stderr.WriteLine($"preparing {file.Path} ({StorageBenchSuite.FormatSize(file.Size)}): writing data over it");
        file.Fill();

        var report = new StorageBenchSuite(o, env, runners, file, progress).Run(unavailable);

        Directory.CreateDirectory(o.OutputDirectory);
        File.WriteAllText(Path.Combine(o.OutputDirectory, "results.json"), JsonSerializer.Serialize(report, StorageBenchJsonContext.Default.StorageBenchReport));
        File.WriteAllText(Path.Combine(o.OutputDirectory, "results.md"), "# Storage benchmark results\n\n" + ResultTables.Render(report, markdown: true));
        string text = ResultTables.Render(report, markdown: false);
        File.WriteAllText(Path.Combine(o.OutputDirectory, "summary.txt"), text);
        stdout.Write(text);
        stdout.WriteLine($"results: {Path.GetFullPath(o.OutputDirectory)} (results.json, results.md, summary.txt)");
        stdout.Flush();

        // The suite itself ran; a bhyve-aot target that never produced a number means it is broken.
        bool bhyveBroken = report.Targets.Any(t => t.Runner == BenchRunner.BhyveAot && t.Device == BenchDevice.VirtioBlk && !t.Available);
        return bhyveBroken ? ExitCodes.BenchTargetFailed : ExitCodes.PoweredOff;
    }
}

/// <summary>This host cannot run the VM side of the suite (reported with `check`'s exit status).</summary>
public sealed class HostUnsupportedException(string message) : Exception(message);
