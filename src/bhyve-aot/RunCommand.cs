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
    public static Command Create(Func<VmConfig, bool, int> action, Func<VmConfig, bool, string, int>? withApi = null)
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
        var disks = new Option<string[]>("--disk")
        {
            Description = "virtio-blk disk: path=FILE[,readonly][,discard=unmap|ignore][,direct][,queues=N][,queue-size=N][,size=S,create][,serial=S][,slot=N]; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var nvme = new Option<string[]>("--nvme")
        {
            Description = "NVMe controller: path=FILE|ram=SIZE[,readonly][,dsm=auto|enable|disable][,queues=N][,queue-size=N][,sector-size=512|4096][,serial=S][,direct][,size=S,create][,slot=N]; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var initrd = new Option<string?>("--initrd", "-i") { Description = "initial ramdisk for a Linux kernel" };
        var blockDevices = new Option<string[]>("--block-device") { Description = "Solo5 hvt block device: NAME=PATH; repeatable", AllowMultipleArgumentsPerToken = false };
        var netDevices = new Option<string[]>("--net-device") { Description = "Solo5 hvt network device: NAME=TAP; repeatable", AllowMultipleArgumentsPerToken = false };
        var guestArgs = new Argument<string[]>("guest-args") { Description = "after --: the unikernel's own arguments", Arity = ArgumentArity.ZeroOrMore };
        var cpuidHide = new Option<string[]>("--cpuid-hide")
        {
            Description = "hide CPU features from the guest, e.g. xsave,cx16,avx (names as in /proc/cpuinfo); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var stats = new Option<bool>("--stats") { Description = "print VM exit counts on stderr when the guest ends" };
        var apiSock = new Option<string?>("--api-sock") { Description = "serve Firecracker's REST API on this Unix socket while the machine runs (README: FIRECRACKER API)" };

        var command = new Command("run", "Boot a kernel, given by options or by a JSON machine file, and exit with the guest's status.")
        {
            configFile, kernel, memory, cpus, cmdline, name, disks, nvme, initrd, blockDevices, netDevices, hugePages, cpuidHide, stats, apiSock, guestArgs,
        };
        HelpEpilogue.Set(command,
            "The machine comes from the options or, with --config, from a JSON machine file (README: MACHINE FILE); the bhyve\n"
            + "form (`bhyve-aot -s ... NAME`, see `bhyve-aot --help`) does the same.\n\n"
            + HelpExamples.Format(HelpExamples.Run) + "\n\n" + ExitCodes.Table);
        Option[] machineOptions = [kernel, memory, cpus, cmdline, name, disks, nvme, initrd, blockDevices, netDevices, hugePages, cpuidHide];
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
                        Disks = (result.GetValue(disks) ?? []).Select(DiskConfig.Parse).ToArray(),
                        Nvme = (result.GetValue(nvme) ?? []).Select(NvmeConfig.Parse).ToArray(),
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
            if (result.GetValue(apiSock) is { } socket && withApi is not null) return withApi(config, result.GetValue(stats), socket);
            return action(config, result.GetValue(stats));
        });
        return command;
    }

    private static IReadOnlyList<CpuidFeature> ParseCpuidHide(string[] values)
    {
        var features = CpuidFeature.ParseList(string.Join(',', values), out string? error);
        if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
        return features;
    }

    public static int Run(VmConfig config, bool stats) => Run(config, stats, null);

    /// <summary>Boots <paramref name="config"/>; <paramref name="attach"/> sees the machine before it boots (the API socket uses it).</summary>
    public static int Run(VmConfig config, bool stats, Action<Machine>? attach)
    {
        Machine machine;
        VmExit exit;
        string vm = config.MessagePrefix;
        if (config.Name is { } title) ProcessTitle.TrySet(title);
        try
        {
            machine = new Machine(config);
            attach?.Invoke(machine);
            exit = machine.Run(Console.OpenStandardOutput(), Console.OpenStandardInput());
        }
        catch (Exception e) { return Program.Fail(FailureStatus(e), FailureMessage(config, e)); }
        if (exit.Message is not null) Console.Error.WriteLine($"bhyve-aot: {vm}{exit.Message}");
        foreach (string line in machine.FlushFailures) Console.Error.WriteLine($"bhyve-aot: {vm}{line}");
        if (stats) PrintStats(config, machine);
        return exit.Code;
    }

    /// <summary>The exit status for a run that failed before or while booting.</summary>
    public static int FailureStatus(Exception e) => e switch
    {
        ConfigException or BootImageException => ExitCodes.Usage,
        // A shortage (ENOMEM, EMFILE, ...) is the host's state, not a missing KVM, whichever call ran into it.
        ErrnoException { ExhaustedResource: not null } => ExitCodes.HostResource,
        KvmException => ExitCodes.HostUnsupported,
        _ => ExitCodes.VmmFailure,
    };

    /// <summary>The one line for a run that failed before or while booting.</summary>
    public static string FailureMessage(VmConfig config, Exception e)
    {
        string vm = config.MessagePrefix;
        return e switch
        {
            ConfigException => vm + e.Message,
            BootImageException => $"{vm}{config.KernelPath}: {e.Message}",
            ErrnoException { ExhaustedResource: { } resource } => $"{vm}host out of {resource}: {e.Message}",
            KvmException => $"{vm}{e.Message} (run `bhyve-aot check`)",
            ErrnoException => $"{vm}internal error: {e.Message}",
            // Anything else is our bug: one line and an even status, never a stack trace or a guest-looking odd status.
            _ => $"{vm}internal error: {e.GetType().Name}: {e.Message}",
        };
    }

    public static void PrintStats(VmConfig config, Machine machine)
    {
        string vm = config.MessagePrefix;
        var c = machine.Exits;
        Console.Error.WriteLine($"bhyve-aot: {vm}exits to user space: {c.Total} (port I/O {c.Io}, MMIO {c.Mmio}, interrupted {c.Interrupted}, other {c.Other})");
        if (machine.HvtHypercallCounts is { } calls)
        {
            var named = Enum.GetValues<Devices.Hvt.HvtHypercall>().Select(h => $"{h.ToString().ToLowerInvariant()} {calls[(int)h]}");
            Console.Error.WriteLine($"bhyve-aot: {vm}hvt hypercalls: {string.Join(", ", named)}");
        }
        if (config.Disks.Count > 0)
        {
            var d = machine.DiskCounters;
            Console.Error.WriteLine($"bhyve-aot: {vm}virtio-blk: {d.Requests} requests, {d.Doorbells} doorbells (ioeventfd), {d.Interrupts} interrupts, {d.BackendFull} backend-full stalls");
        }
        if (config.Nvme.Count > 0)
        {
            var n = machine.NvmeCounters;
            Console.Error.WriteLine($"bhyve-aot: {vm}nvme: {n.IoCommands} I/O commands, {n.AdminCommands} admin commands, doorbells {n.MmioDoorbells} MMIO + {n.EventFdDoorbells} ioeventfd, {n.Interrupts} interrupts, {n.CqFullWaits} CQ-full waits, {n.BackendFull} backend-full stalls");
        }
        if (machine.SerialConsole is { } serial)
            Console.Error.WriteLine($"bhyve-aot: {vm}console: {serial.WrittenBytes} bytes written, {serial.DroppedBytes} dropped");
        Console.Error.WriteLine($"bhyve-aot: {vm}gc: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections, {GC.GetTotalAllocatedBytes()} bytes allocated");
    }
}
