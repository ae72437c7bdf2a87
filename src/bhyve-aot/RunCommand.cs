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
    public static Command Create() => CreateWith(Run);

    /// <summary>The same options with another action: `config print run ...` prints the machine instead of booting it.</summary>
    public static Command Create(Func<VmConfig, bool, int> action) => CreateWith((config, stats, _) => action(config, stats));

    private static Command CreateWith(Func<VmConfig, bool, TimeSpan, int> action)
    {
        var configFile = new Option<string?>("--config") { Description = "JSON machine file giving the whole machine (see the README's MACHINE FILE section)" };
        var kernel = new Option<string?>("--kernel", "-k") { Description = "kernel or unikernel to boot: a PVH ELF or a Solo5 hvt unikernel (required unless --config)" };
        var memory = new Option<ulong>("--memory", "-m")
        {
            Description = "guest RAM, with a K/M/G suffix",
            DefaultValueFactory = _ => VmConfig.DefaultMemoryBytes,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (ByteSize.TryParse(text, out ulong bytes)) return bytes;
                r.AddError($"--memory: '{text}' is not a size (examples: 64M, 1G)");
                return 0;
            },
        };
        var cpus = new Option<int>("--cpus", "-c") { Description = "number of vCPUs", DefaultValueFactory = _ => 1 };
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

        var command = new Command("run", "Boot a kernel, given by options or by a JSON machine file, and exit with the guest's status.")
        {
            configFile, kernel, memory, cpus, cmdline, name,
        };
        foreach (var (_, option) in deviceOptions) command.Options.Add(option);
        foreach (var option in new Option[] { initrd, blockDevices, netDevices, hugePages, cpuidHide, stats, shutdownTimeout }) command.Options.Add(option);
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
            if (extra.Length > 0 && !result.Tokens.Any(t => t.Type == TokenType.DoubleDash))
                return Program.Fail(ExitCodes.Usage, $"Unrecognized command or argument '{extra[0]}' (unikernel arguments go after --)");
            VmConfig config;
            try
            {
                if (result.GetValue(configFile) is { } file)
                {
                    // The file is the whole machine: mixing in options would leave two answers to "what runs".
                    if (machineOptions.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } mixed)
                        return Program.Fail(ExitCodes.Usage, $"--config gives the whole machine; {mixed.Name} cannot be added to it");
                    if (extra.Length > 0) return Program.Fail(ExitCodes.Usage, "--config gives the whole machine; put unikernel arguments in its hvt.args");
                    config = MachineFileReader.Load(file);
                }
                else
                {
                    if (result.GetValue(kernel) is not { } kernelPath)
                        return Program.Fail(ExitCodes.Usage, "no kernel given (--kernel PATH or --config FILE)");
                    config = new VmConfig
                    {
                        Name = result.GetValue(name),
                        KernelPath = kernelPath,
                        MemoryBytes = result.GetValue(memory),
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
            catch (ConfigException e) { return Program.Fail(ExitCodes.Usage, e.Message); }
            return action(config, result.GetValue(stats), TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)));
        });
        return command;
    }

    private static IReadOnlyList<CpuidFeature> ParseCpuidHide(string[] values)
    {
        var features = CpuidFeature.ParseList(string.Join(',', values), out string? error);
        if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
        return features;
    }

    public static int Run(VmConfig config, bool stats) => Run(config, stats, MachineRunOptions.DefaultShutdownTimeout);

    public static int Run(VmConfig config, bool stats, TimeSpan shutdownTimeout)
    {
        Machine? machine = null;
        VmExit exit;
        string vm = config.MessagePrefix;
        if (config.Name is { } title) ProcessTitle.TrySet(title);
        try
        {
            machine = Machine.Create(config);
            exit = machine.Run(Console.OpenStandardOutput(), Console.OpenStandardInput(),
                new MachineRunOptions { HandleSignals = true, ShutdownTimeout = shutdownTimeout });
        }
        catch (ConfigException e) { return Program.Fail(ExitCodes.Usage, vm + e.Message); }
        catch (BootImageException e) { return Program.Fail(ExitCodes.Usage, $"{vm}{config.KernelPath}: {e.Message}"); }
        // A shortage (ENOMEM, EMFILE, ...) is the host's state, not a missing KVM, whichever call ran into it.
        catch (ErrnoException e) when (e.ExhaustedResource is { } resource) { return Program.Fail(ExitCodes.HostResource, $"{vm}host out of {resource}: {e.Message}"); }
        catch (KvmException e) { return Program.Fail(ExitCodes.HostUnsupported, $"{vm}{e.Message} (run `bhyve-aot check`)"); }
        catch (ErrnoException e) { return Program.Fail(ExitCodes.VmmFailure, $"{vm}internal error: {e.Message}"); }
        // Anything else is our bug: one line and an even status, never a stack trace or a guest-looking odd status.
        catch (Exception e) { return Program.Fail(ExitCodes.VmmFailure, $"{vm}internal error: {e.GetType().Name}: {e.Message}"); }
        if (exit.Message is not null) Console.Error.WriteLine($"bhyve-aot: {vm}{exit.Message}");
        if (stats)
        {
            var c = machine.Exits;
            Console.Error.WriteLine($"bhyve-aot: {vm}exits to user space: {c.Total} (port I/O {c.Io}, MMIO {c.Mmio}, interrupted {c.Interrupted}, other {c.Other})");
            foreach (var line in machine.StatsLines()) Console.Error.WriteLine($"bhyve-aot: {vm}{line}");
            Console.Error.WriteLine($"bhyve-aot: {vm}gc: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections, {GC.GetTotalAllocatedBytes()} bytes allocated");
        }
        return exit.Code;
    }
}
