using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// The bhyve-style command line (`bhyve-aot -c 2 -m 512M -s 2,virtio-blk,disk.img -b vmlinux myvm`), read by the
/// library's BhyveCommandLine and documented here, in `bhyve-aot -h`. It exits with bhyve(8)'s statuses.
/// </summary>
public static class BhyveForm
{
    /// <summary>bhyve's form starts with an option; these go to System.CommandLine instead.</summary>
    public static bool Matches(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0].StartsWith('-') && args[0] is not ("--help" or "-?" or "--version");

    /// <summary>Parses and runs <paramref name="action"/>; statuses are bhyve's unless <paramref name="bhyveStatus"/> is false (`config print`).</summary>
    public static int Dispatch(IReadOnlyList<string> args, Func<VmConfig, RunSwitches, int> action, bool bhyveStatus = true)
    {
        int Status(int ours) => bhyveStatus ? ExitCodes.ToBhyve(ours) : ours;
        BhyveInvocation? invocation;
        BhyveHelp help;
        try
        {
            invocation = BhyveCommandLine.Parse(args, out help);
        }
        catch (Vmm.ConfigException e) { return Status(Report.Fail(ExitCodes.Usage, e.Message)); }
        if (invocation is null)
        {
            if (help == BhyveHelp.Usage) return Program.Invoke(Program.Root(), ["--help"]);
            Console.Out.WriteLine(BhyveCommandLine.HelpText(help));
            return ExitCodes.Success;
        }
        if (bhyveStatus && SlotProblem(invocation.Config) is { } problem) return Status(Report.Fail(ExitCodes.Usage, problem));
        return Status(action(invocation.Config, new RunSwitches(invocation.Stats, invocation.Overcommit)));
    }

    /// <summary>A disk that cannot be opened, named by its slot as it was given (`-s 2,virtio-blk: a.img: no such file`).</summary>
    private static string? SlotProblem(VmConfig config)
    {
        string prefix = config.MessagePrefix;
        foreach (var d in config.Disks)
            if (!d.Create && Os.InputFile.ProbeBacking(d.Path) is { } why) return $"{prefix}-s {d.PciSlot},virtio-blk: {Os.InputFile.Escape(d.Path)}: {why}";
        foreach (var n in config.Nvme)
            if (n.Path is { } path && !n.Create && Os.InputFile.ProbeBacking(path) is { } why) return $"{prefix}-s {n.PciSlot},nvme: {Os.InputFile.Escape(path)}: {why}";
        return null;
    }

    public const string Help =
        """
        The bhyve form (bhyve(8)'s command line; exit statuses as bhyve's, below):
          bhyve-aot [-aACDHPSuWwxY] [-c [[cpus=]N][,sockets=S][,cores=C][,threads=T]] [-m SIZE] [-k CONFIG_FILE]
                    [-o NAME=VALUE]... [-s SLOT,EMULATION[,CONF]]... [-l com1,stdio] -b KERNEL [-i INITRD] [-t CMDLINE]
                    [--stats] [--huge-pages] [--overcommit] [--cpuid-hide LIST] VMNAME
          bhyve-aot -s help | -l help

          -c N            vCPUs (default 1); a topology is accepted when sockets*cores*threads = N (not shown to the guest yet)
          -m SIZE         guest RAM: K/M/G/T suffix, or a plain number of MiB, as in bhyve (default 256M, as in bhyve)
          -k FILE         bhyve_config(5) file: NAME=VALUE lines, '#' comments; the same names as -o
          -o NAME=VALUE   one bhyve_config(5) variable: cpus, memory.size, name, pci.0.N.0.device, pci.0.N.0.path (and the
                          other -s settings), lpc.com1.path=stdio, and bhyve-aot's own kernel, initrd, cmdline
          -s SLOT,EMUL    a PCI device in SLOT (0..31, or SLOT:0, or 0:SLOT:0; function 0 only):
                            0,hostbridge     the host bridge (always present at slot 0; accepted there only)
                            N,lpc            accepted for bhyve command lines; COM1 is an ISA device whatever the slot
                            N,virtio-blk,PATH[,ro][,nocache][,nodelete|discard[=unmap|ignore]][,ser=S]
                                             [,queues=N][,queue-size=N][,size=S,create]
                            N,nvme,PATH|ram=MiB[,maxq=N][,qsz=N][,ioslots=N][,sectsz=512|4096][,ser=S]
                                             [,dsm=auto|enable|disable][,ro][,nocache][,size=S,create]
          -l com1,stdio   the serial console (COM1 on stdin/stdout is always there; nothing else is accepted)
          -b KERNEL       kernel to load directly (-o kernel=PATH): Linux bzImage/vmlinux, PVH ELF or Solo5 hvt; bhyve itself
                          uses bhyveload or a boot ROM, and its -k is the configuration file
          -i INITRD       initial ramdisk (-o initrd=PATH);  -t CMDLINE  kernel command line (-o cmdline=TEXT)
          -a -A -C -D -H -P -S -u -W -w -x -Y   accepted; nothing to change here (README: what differs from bhyve)
          -U UUID, -K LAYOUT                    accepted and unused (no SMBIOS tables, no keyboard)
          --stats --huge-pages --overcommit --cpuid-hide LIST   as for run
          VMNAME          the VM's name, last: shown in messages (or -o name=NAME)
        """;
}
