using System.CommandLine;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot run`: boots a kernel and exits with the guest's status.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var kernel = new Option<string>("--kernel", "-k") { Description = "PVH ELF kernel or unikernel to boot", Required = true };
        var memory = new Option<ulong>("--memory", "-m")
        {
            Description = "guest RAM, with a K/M/G suffix",
            DefaultValueFactory = _ => VmConfigDefaults.Memory,
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
        var hugePages = new Option<bool>("--huge-pages") { Description = "back guest RAM with transparent huge pages" };
        var disks = new Option<string[]>("--disk")
        {
            Description = "virtio-blk disk: path=FILE[,readonly][,discard=unmap|ignore][,direct][,queues=N][,queue-size=N][,size=S,create][,serial=S]; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var nvme = new Option<string[]>("--nvme")
        {
            Description = "NVMe controller: path=FILE|ram=SIZE[,readonly][,dsm=auto|enable|disable][,queues=N][,queue-size=N][,sector-size=512|4096][,serial=S][,direct][,size=S,create]; repeatable",
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

        var command = new Command("run", "Boot a kernel and exit with the guest's status.\n\n" + ExitCodes.Table)
        {
            kernel, memory, cpus, cmdline, disks, nvme, initrd, blockDevices, netDevices, hugePages, cpuidHide, stats, guestArgs,
        };
        command.SetAction(result =>
        {
            // Unknown words are only guest arguments after `--`; anywhere else they are mistakes.
            string[] extra = result.GetValue(guestArgs) ?? [];
            if (extra.Length > 0 && !result.Tokens.Any(t => t.Type == System.CommandLine.Parsing.TokenType.DoubleDash))
                return Program.Fail(ExitCodes.Usage, $"Unrecognized command or argument '{extra[0]}' (unikernel arguments go after --)");
            VmConfig config;
            try
            {
                config = new VmConfig
                {
                    KernelPath = result.GetValue(kernel)!,
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
            catch (ConfigException e) { return Program.Fail(ExitCodes.Usage, e.Message); }
            return Run(config, result.GetValue(stats));
        });
        return command;
    }

    private static IReadOnlyList<CpuidFeature> ParseCpuidHide(string[] values)
    {
        var features = CpuidFeature.ParseList(string.Join(',', values), out string? error);
        if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
        return features;
    }

    public static int Run(VmConfig config, bool stats)
    {
        Machine machine;
        VmExit exit;
        try
        {
            machine = new Machine(config);
            exit = machine.Run(Console.OpenStandardOutput(), Console.OpenStandardInput());
        }
        catch (ConfigException e) { return Program.Fail(ExitCodes.Usage, e.Message); }
        catch (BootImageException e) { return Program.Fail(ExitCodes.Usage, $"{config.KernelPath}: {e.Message}"); }
        catch (KvmException e) { return Program.Fail(ExitCodes.HostUnsupported, $"{e.Message} (run `bhyve-aot check`)"); }
        // Anything else is our bug: one line and an even status, never a stack trace or a guest-looking odd status.
        catch (Exception e) { return Program.Fail(ExitCodes.VmmFailure, $"internal error: {e.GetType().Name}: {e.Message}"); }
        if (exit.Message is not null) Console.Error.WriteLine($"bhyve-aot: {exit.Message}");
        if (stats)
        {
            var c = machine.Exits;
            Console.Error.WriteLine($"bhyve-aot: exits to user space: {c.Total} (port I/O {c.Io}, MMIO {c.Mmio}, interrupted {c.Interrupted}, other {c.Other})");
            if (config.Disks.Count > 0)
            {
                var d = machine.DiskCounters;
                Console.Error.WriteLine($"bhyve-aot: virtio-blk: {d.Requests} requests, {d.Doorbells} doorbells (ioeventfd), {d.Interrupts} interrupts, {d.BackendFull} backend-full stalls");
            }
            if (config.Nvme.Count > 0)
            {
                var n = machine.NvmeCounters;
                Console.Error.WriteLine($"bhyve-aot: nvme: {n.IoCommands} I/O commands, {n.AdminCommands} admin commands, doorbells {n.MmioDoorbells} MMIO + {n.EventFdDoorbells} ioeventfd, {n.Interrupts} interrupts, {n.CqFullWaits} CQ-full waits, {n.BackendFull} backend-full stalls");
            }
        }
        return exit.Code;
    }
}

internal static class VmConfigDefaults
{
    public const ulong Memory = 64UL << 20;
}
