using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// The bhyve-style command line (`bhyve-aot -c 2 -m 512M -s 2,virtio-blk,disk.img -k vmlinux myvm`), read by the
/// library's BhyveCommandLine and documented here, in the root --help.
/// </summary>
public static class BhyveForm
{
    /// <summary>bhyve's form starts with an option; these go to System.CommandLine instead.</summary>
    public static bool Matches(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version");

    public static int Dispatch(IReadOnlyList<string> args, Func<VmConfig, bool, int> action)
    {
        BhyveInvocation? invocation;
        try
        {
            invocation = BhyveCommandLine.Parse(args);
        }
        catch (ConfigException e) { return Program.Fail(ExitCodes.Usage, e.Message); }
        if (invocation is null) return Program.Invoke(Program.Root(), ["--help"]);
        return action(invocation.Config, invocation.Stats);
    }

    public const string Help =
        """
        The bhyve form:
          bhyve-aot [-AHPuwDY] [-c [[cpus=]N][,sockets=S][,cores=C][,threads=T]] [-m SIZE] [-s SLOT,EMULATION[,CONF]]...
                    [-l com1,stdio] -k KERNEL [-i INITRD] [-C CMDLINE] [--stats] [--huge-pages] [--cpuid-hide LIST] VMNAME

          -c N            vCPUs (default 1); a topology is accepted when sockets*cores*threads = N (not shown to the guest yet)
          -m SIZE         guest RAM: K/M/G/T suffix, or a plain number of MiB as in bhyve (default 64M)
          -s SLOT,EMUL    a PCI device in SLOT (0..31, or SLOT:0, or 0:SLOT:0; function 0 only):
                            0,hostbridge     the host bridge (always present at slot 0; accepted there only)
                            N,lpc            accepted for bhyve command lines; COM1 is an ISA device whatever the slot
                            N,virtio-blk,PATH[,ro][,nocache][,nodelete|discard[=unmap|ignore]][,ser=S]
                                             [,queues=N][,queue-size=N][,size=S,create]
                            N,nvme,PATH|ram=MiB[,maxq=N][,qsz=N][,ioslots=N][,sectsz=512|4096][,ser=S]
                                             [,dsm=auto|enable|disable][,ro][,nocache][,size=S,create]
          -l com1,stdio   the serial console (COM1 on stdin/stdout is always there; nothing else is accepted)
          -k KERNEL       kernel to load directly: Linux bzImage/vmlinux, PVH ELF or Solo5 hvt (bhyve uses a loader or boot ROM)
          -i INITRD       initial ramdisk;  -C CMDLINE  kernel command line
          -A -H -P -u -w -D -Y   accepted and ignored (nothing to change here)
          --stats --huge-pages --cpuid-hide LIST   as for run
          VMNAME          the VM's name, last: shown in messages
        """;
}
