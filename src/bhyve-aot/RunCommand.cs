using System.CommandLine;
using System.CommandLine.Parsing;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Config;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Os;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot run`: boots a kernel (given by options or by a machine file) and exits with the guest's status.</summary>
public static class RunCommand
{
    public static Command Create() => Create(Run, FirecrackerCommand.RunWithApi);

    /// <summary>The same options with another action: `config print run ...` prints the machine instead of booting it.</summary>
    /// <param name="withApi">runs the machine with the Firecracker API on a socket (--api-sock); null where the option means nothing</param>
    public static Command Create(Func<VmConfig, RunSwitches, int> action, Func<VmConfig, RunSwitches, string, int>? withApi = null)
    {
        var configFile = new Option<string?>("--config") { Description = "JSON machine file giving the whole machine (see the README's MACHINE FILE section)" };
        var kernel = new Option<string?>("--kernel", "-k") { Description = "kernel or unikernel to boot: a PVH ELF or a Solo5 hvt unikernel (required unless --config)" };
        // A string, so that --help shows the default as users write it ("64M", not a byte count).
        var memory = new Option<string>("--memory", "-m")
        {
            Description = "guest RAM: a size with a K/M/G/T suffix; a plain number is MiB",
            DefaultValueFactory = _ => ByteSize.Format(VmConfig.DefaultMemoryBytes),
        };
        memory.Validators.Add(r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (r.Tokens.Count > 0 && !ByteSize.TryParse(text, out _)) r.AddError($"--memory: '{InputFile.Escape(text)}' is not a size ({ByteSize.Examples})");
        });
        var cpus = new Option<int>("--cpus", "-c")
        {
            Description = $"number of vCPUs (1..{VmConfig.MaxCpus})",
            DefaultValueFactory = _ => 1,
            CustomParser = r => WholeNumber(r, "--cpus", $"a number of vCPUs (1..{VmConfig.MaxCpus})"),
        };
        var overcommit = new Option<bool>("--overcommit") { Description = "allow more guest RAM than the host has (pages are only used when the guest touches them)" };
        var cmdline = new Option<string>("--cmdline", "-C") { Description = "guest command line", DefaultValueFactory = _ => "" };
        var name = new Option<string?>("--name") { Description = "VM name, shown in messages (bhyve's last argument)" };
        var hugePages = new Option<bool>("--huge-pages") { Description = "back guest RAM with transparent huge pages" };
        // One repeatable option per registered device kind (--disk, --nvme, ...).
        var deviceOptions = DeviceKinds.All.Select(kind => (Kind: kind, Option: new Option<string[]>(kind.LongOption)
        {
            Description = $"{kind.Description}: {kind.OptionSyntax}; repeatable",
            AllowMultipleArgumentsPerToken = false,
        })).ToArray();
        var initrd = new Option<string?>("--initrd", "-i") { Description = "initial ramdisk for a Linux kernel" };
        var blockDevices = new Option<string[]>("--block-device") { Description = "Solo5 hvt block device: NAME=PATH; repeatable", AllowMultipleArgumentsPerToken = false };
        var netDevices = new Option<string[]>("--net-device") { Description = "Solo5 hvt network device: NAME=TAP; repeatable", AllowMultipleArgumentsPerToken = false };
        var guestArgs = new Argument<string[]>("guest-args") { Description = "after --: the unikernel's own arguments", Arity = ArgumentArity.ZeroOrMore };
        var cpuidHide = new Option<string[]>("--cpuid-hide")
        {
            Description = "hide CPU features from the guest, e.g. xsave,cx16,avx (names as in /proc/cpuinfo); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var stats = new Option<bool>("--stats") { Description = "print VM exit and device counts on stderr when the VM ends, however it ends" };
        var apiSock = new Option<string?>("--api-sock") { Description = "serve Firecracker's REST API on this Unix socket while the machine runs (README: FIRECRACKER API)" };
        var shutdownTimeout = new Option<int>("--shutdown-timeout")
        {
            Description = "seconds a guest gets to power off after SIGTERM/SIGINT press its ACPI power button, before it is stopped (0: at once)",
            DefaultValueFactory = _ => (int)MachineRunOptions.DefaultShutdownTimeout.TotalSeconds,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s) && s <= 3600) return s;
                r.AddError($"--shutdown-timeout: '{text}' is not a whole number of seconds (0..3600)");
                return 0;
            },
        };

        var seccomp = new Option<string>("--seccomp")
        {
            Description = "per-thread seccomp filters once the guest runs: on (default) or off (for debugging; README: SECCOMP)",
            DefaultValueFactory = _ => "on",
        };
        seccomp.AcceptOnlyFromAmong("on", "off");

        var command = new Command("run", "Boot a kernel, given by options or by a JSON machine file, and exit with the guest's status.")
        {
            configFile, kernel, memory, cpus, cmdline, name,
        };
        foreach (var (_, option) in deviceOptions) command.Options.Add(option);
        foreach (var option in new Option[] { initrd, blockDevices, netDevices, hugePages, cpuidHide, stats, overcommit, shutdownTimeout, seccomp, apiSock }) command.Options.Add(option);
        command.Arguments.Add(guestArgs);
        HelpEpilogue.Set(command,
            "The machine comes from the options or, with --config, from a JSON machine file (README: MACHINE FILE); the bhyve\n"
            + "form (`bhyve-aot -s ... NAME`, see `bhyve-aot --help`) does the same.\n\n"
            + HelpExamples.Format(HelpExamples.Run) + "\n\n" + ExitCodes.Table);
        Option[] machineOptions = [kernel, memory, cpus, cmdline, name, .. deviceOptions.Select(d => d.Option), initrd, blockDevices, netDevices, hugePages, cpuidHide];
        command.SetAction(result =>
        {
            // Unknown words are only guest arguments after `--`; anywhere else they are mistakes.
            string[] extra = result.GetValue(guestArgs) ?? [];
            if (extra.Length > 0 && !result.Tokens.Any(t => t.Type == TokenType.DoubleDash) && extra[0].StartsWith('-'))
                return Report.Fail(ExitCodes.Usage, ParseErrors.UnknownOption(command, "run", extra[0]));
            if (extra.Length > 0 && !result.Tokens.Any(t => t.Type == TokenType.DoubleDash))
                return Report.Fail(ExitCodes.Usage, $"run: unexpected argument '{InputFile.Escape(extra[0])}' (unikernel arguments go after --); see `bhyve-aot run --help`");
            VmConfig config;
            try
            {
                if (result.GetValue(configFile) is { } file)
                {
                    // The file is the whole machine: mixing in options would leave two answers to "what runs".
                    if (machineOptions.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } mixed)
                        return Report.Fail(ExitCodes.Usage, $"--config gives the whole machine; {mixed.Name} cannot be added to it");
                    if (extra.Length > 0) return Report.Fail(ExitCodes.Usage, "--config gives the whole machine; put unikernel arguments in its hvt.args");
                    config = MachineFileReader.Load(file);
                }
                else
                {
                    if (result.GetValue(kernel) is not { } kernelPath)
                        return Report.Fail(ExitCodes.Usage, "no kernel given (--kernel PATH or --config FILE)");
                    config = new VmConfig
                    {
                        Name = result.GetValue(name),
                        KernelPath = kernelPath,
                        MemoryBytes = ByteSize.TryParse(result.GetValue(memory) ?? "", out ulong bytes) ? bytes : VmConfig.DefaultMemoryBytes,
                        Cpus = result.GetValue(cpus),
                        Cmdline = result.GetValue(cmdline) ?? "",
                        HugePages = result.GetValue(hugePages),
                        Devices = deviceOptions.SelectMany(d => (result.GetValue(d.Option) ?? []).Select(d.Kind.Parse)).ToArray(),
                        InitrdPath = result.GetValue(initrd),
                        HvtBlocks = (result.GetValue(blockDevices) ?? []).Select(t => HvtDeviceConfig.Parse("--block-device", t)).ToArray(),
                        HvtNets = (result.GetValue(netDevices) ?? []).Select(t => HvtDeviceConfig.Parse("--net-device", t)).ToArray(),
                        GuestArgs = extra,
                        CpuidHide = ParseCpuidHide(result.GetValue(cpuidHide) ?? []),
                    };
                }
                config.Validate();
            }
            catch (ConfigException e) { return Report.Fail(ExitCodes.Usage, e.Message); }
            SeccompEnabled = result.GetValue(seccomp) != "off";
            var switches = new RunSwitches(result.GetValue(stats), result.GetValue(overcommit), TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)));
            if (result.GetValue(apiSock) is { } socket && withApi is not null) return withApi(config, switches, socket);
            return action(config, switches);
        });
        return command;
    }

    /// <summary>An int option's value with our message (the library's would name a .NET type).</summary>
    public static int WholeNumber(ArgumentResult r, string option, string what)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)) return n;
        r.AddError($"{option}: '{InputFile.Escape(text)}' is not {what}");
        return 0;
    }

    private static IReadOnlyList<CpuidFeature> ParseCpuidHide(string[] values)
    {
        var features = CpuidFeature.ParseList(string.Join(',', values), out string? error);
        if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
        return features;
    }

    /// <summary>--seccomp (on unless `--seccomp off`); the bhyve form always runs with the filters.</summary>
    public static bool SeccompEnabled { get; set; } = true;

    public static int Run(VmConfig config, RunSwitches switches)
    {
        Machine? machine = null;
        VmExit exit;
        string vm = config.MessagePrefix;
        if (HostRamProblem(config, switches) is { } tooBig) return Report.Fail(ExitCodes.Usage, vm + tooBig);
        if (config.Name is { } title) ProcessTitle.TrySet(title);
        try
        {
            SeccompFilter.Configure(SeccompEnabled, ExitCodes.VmmFailure);
            machine = Machine.Create(config);
            exit = machine.Run(Console.OpenStandardOutput(), Console.OpenStandardInput(), RunOptions(switches));
        }
        catch (BootImageException e) { return Report.Fail(ExitCodes.Usage, $"{vm}{InputFile.Escape(config.KernelPath)}: {e.Message}"); }
        // Everything else, ours or not, is worded in one place (Report: host shortages, KVM, our bugs).
        catch (Exception e) { return Report.Exception(e, vm); }
        if (exit.Message is not null) Console.Error.WriteLine($"bhyve-aot: {vm}{exit.Message}");
        if (switches.Stats) PrintStats(config, machine);
        return exit.Code;
    }

    /// <summary>The line refusing more guest RAM than the host has, unless --overcommit; null when it fits.</summary>
    public static string? HostRamProblem(VmConfig config, RunSwitches switches) =>
        !switches.Overcommit && HostRam.TotalBytes() is { } hostRam && config.MemoryBytes > hostRam
            ? $"guest memory {ByteSize.Format(config.MemoryBytes)} is more than this host's {hostRam >> 20} MiB of RAM (--overcommit runs it anyway)"
            : null;

    /// <summary>How `run` runs a machine: signals press the power button, within --shutdown-timeout.</summary>
    public static MachineRunOptions RunOptions(RunSwitches switches) =>
        new() { HandleSignals = true, ShutdownTimeout = switches.ShutdownTimeout ?? MachineRunOptions.DefaultShutdownTimeout };

    /// <summary>The status and one line for a run that failed before or while booting (the API answers InstanceStart with the line).</summary>
    public static (int Code, string Line) Failure(VmConfig config, Exception e) => e is BootImageException
        ? (ExitCodes.Usage, $"{config.MessagePrefix}{InputFile.Escape(config.KernelPath)}: {e.Message}")
        // Everything else, ours or not, is worded in one place (Report: host shortages, KVM, our bugs).
        : Report.Describe(e, config.MessagePrefix);

    /// <summary>--stats: exit counts, a line per device kind and the console, and the GC's counts.</summary>
    public static void PrintStats(VmConfig config, Machine machine)
    {
        string vm = config.MessagePrefix;
        var c = machine.Exits;
        Console.Error.WriteLine($"bhyve-aot: {vm}exits to user space: {c.Total} (port I/O {c.Io}, MMIO {c.Mmio}, interrupted {c.Interrupted}, other {c.Other})");
        foreach (var line in machine.StatsLines()) Console.Error.WriteLine($"bhyve-aot: {vm}{line}");
        Console.Error.WriteLine($"bhyve-aot: {vm}gc: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections, {GC.GetTotalAllocatedBytes()} bytes allocated");
    }
}
