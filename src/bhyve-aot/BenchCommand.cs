using System.CommandLine;
using Bhyve.Aot.StorageBench;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot bench storage`: its options, then the storage suite (the Bhyve.Aot.StorageBench assembly) does the rest.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var disk = new Option<string>("--disk") { Description = "backing file: an existing file, or a size (e.g. 2G) for a temporary one in /var/tmp", Required = true };
        var device = new Option<string>("--device") { Description = "virtio-blk, nvme or all", DefaultValueFactory = _ => "all" };
        OneOf(device, "virtio-blk", "nvme", "all");
        var vs = new Option<string?>("--vs") { Description = "also run the same guest on another VMM: qemu" };
        OneOf(vs, "qemu");
        var duration = new Option<string?>("--duration") { Description = "length of each run, e.g. 2s, 500ms (default 2s; 200ms with --quick)" };
        var quick = new Option<bool>("--quick") { Description = "smoke run in seconds: short runs, one round, small discard sizes" };
        var rounds = new Option<int?>("--rounds")
        {
            Description = "rounds per workload, targets alternating (default 2; 1 with --quick)",
            CustomParser = r => RunCommand.WholeNumber(r, "--rounds", "a number of rounds"),
        };
        var cache = new Option<string>("--cache") { Description = "direct (O_DIRECT, QEMU cache=none) or buffered (page cache, QEMU cache=writeback)", DefaultValueFactory = _ => "direct" };
        OneOf(cache, "direct", "buffered");
        var output = new Option<string?>("--output", "-o") { Description = "results directory (default bench/results/<UTC timestamp>)" };
        var guest = new Option<string?>("--guest") { Description = "storage-bench.elf to boot instead of the one built into bhyve-aot (e.g. a rebuilt native/guest/build/storage-bench.elf)" };

        var storage = new Command("storage", "Throughput, latency and discard of bhyve-aot's disks against QEMU and host io_uring on the same file.")
        {
            disk, device, vs, duration, quick, rounds, cache, output, guest,
        };
        storage.SetAction(result =>
        {
            bool isQuick = result.GetValue(quick);
            string? durationText = result.GetValue(duration);
            int ms = isQuick ? 200 : 2000;
            if (durationText is not null && !TryParseDuration(durationText, out ms))
                return Report.Fail(ExitCodes.Usage, $"--duration: '{durationText}' is not a duration (examples: 10s, 500ms)");
            string devices = result.GetValue(device)!;
            BenchDevice[] selected = devices switch
            {
                "virtio-blk" => [BenchDevice.VirtioBlk],
                "nvme" => [BenchDevice.Nvme],
                _ => [BenchDevice.VirtioBlk, BenchDevice.Nvme],
            };
            string self = Environment.ProcessPath ?? "/proc/self/exe";
            var options = new StorageBenchOptions(
                result.GetValue(disk)!, selected, result.GetValue(vs) == "qemu", ms, result.GetValue(rounds) ?? (isQuick ? 1 : 2), isQuick,
                result.GetValue(cache) == "buffered" ? CacheMode.Buffered : CacheMode.Direct, self, result.GetValue(guest),
                result.GetValue(output) ?? Path.Combine("bench", "results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)));
            // Refused before the suite runs for minutes, not after: results never overwrite a file.
            if (File.Exists(options.OutputDirectory))
                return Report.Fail(ExitCodes.Usage, $"--output {Os.InputFile.Escape(options.OutputDirectory)}: is a file; give a directory (new or existing)");
            try { return StorageBenchProgram.Run(options, Console.Out, Console.Error, !Console.IsErrorRedirected); }
            catch (BenchException e) { return Report.Fail(ExitCodes.Usage, e.Message); }
            catch (HostUnsupportedException e) { return Report.Fail(ExitCodes.HostUnsupported, e.Message); }
            catch (Exception e) { return Report.Exception(e); }
        });
        return new Command("bench", "Benchmarks.") { storage };
    }

    /// <summary>Like AcceptOnlyFromAmong, but the error is one line ("--device: 'scsi' is not one of virtio-blk, nvme, all").</summary>
    private static void OneOf(Option option, params string[] values) => option.Validators.Add(r =>
    {
        foreach (var token in r.Tokens)
            if (!values.Contains(token.Value, StringComparer.Ordinal))
                r.AddError($"{option.Name}: '{token.Value}' is not one of {string.Join(", ", values)}");
    });

    /// <summary>"10s", "500ms", "2m" or plain seconds.</summary>
    public static bool TryParseDuration(string text, out int milliseconds)
    {
        milliseconds = 0;
        (string number, double scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
            : text.EndsWith('s') ? (text[..^1], 1000.0)
            : text.EndsWith('m') ? (text[..^1], 60_000.0)
            : (text, 1000.0);
        if (!double.TryParse(number, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double v)) return false;
        double ms = v * scale;
        if (ms is < 1 or > int.MaxValue) return false;
        milliseconds = (int)ms;
        return true;
    }
}
