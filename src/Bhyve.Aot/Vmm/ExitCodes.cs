namespace Bhyve.Aot.Vmm;

/// <summary>
/// The process exit status of bhyve-aot: the one table, in two dialects. `run`, `check`, `config` and `bench` use ours:
/// guest-chosen statuses are always odd (the debug-exit device gives (value &lt;&lt; 1) | 1, as QEMU's isa-debug-exit
/// does) and the VMM's own outcomes are even, so the two never collide. The bhyve form (`bhyve-aot [bhyve options]
/// VMNAME`) speaks bhyve(8)'s instead (<see cref="ToBhyve"/>), so that a wrapper written for bhyve restarts a VM that
/// rebooted and leaves one that powered off.
/// </summary>
public static class ExitCodes
{
    /// <summary>The guest powered off (ACPI S5 through the sleep control register, or KVM system event shutdown); `check`: the host can run VMs.</summary>
    public const int PoweredOff = 0;
    /// <summary>`check`, `config print`, `--help`: the command did what was asked (the same number as <see cref="PoweredOff"/>).</summary>
    public const int Success = 0;
    /// <summary>
    /// A Solo5 hvt unikernel faulted: a bad hypercall pointer, an unknown port or hypercall, a write to its
    /// read-only pages, a triple fault. solo5-hvt exits 1 for all of these, and so do we for hvt guests.
    /// (An hvt guest's own status, from the halt hypercall, is the process status unchanged, as with solo5-hvt.)
    /// </summary>
    public const int GuestFault = 1;
    /// <summary>A bad command line, configuration value, input file or kernel image.</summary>
    public const int Usage = 2;
    /// <summary>The guest triple-faulted (KVM_EXIT_SHUTDOWN).</summary>
    public const int TripleFault = 4;
    /// <summary>KVM reported an internal error (e.g. emulation failure), a failed entry or an exit we cannot handle.</summary>
    public const int KvmError = 6;
    /// <summary>This host cannot run VMs (no usable /dev/kvm or a missing capability).</summary>
    public const int HostUnsupported = 8;
    /// <summary>A fault inside the VMM itself (a bug: please report it).</summary>
    public const int VmmFailure = 10;
    /// <summary>The guest asked for a reset (ACPI reset register, i8042 0xFE, or KVM system event reset); we do not reboot, we stop.</summary>
    public const int Reset = 12;
    /// <summary>The user typed the console escape "~." (only when stdin is a terminal).</summary>
    public const int ConsoleQuit = 14;
    /// <summary>`bench storage`: the suite ran but bhyve-aot's own virtio-blk target produced no result (the reason is in the output).</summary>
    public const int BenchTargetFailed = 16;
    /// <summary>The host ran out of a resource the VM needs (memory for guest RAM, file descriptors, ...); stderr names it.</summary>
    public const int HostResource = 18;
    /// <summary>SIGTERM or SIGINT stopped the VM: the guest did not power off within --shutdown-timeout of the ACPI power button, a second signal came, or the machine has no power button.</summary>
    public const int StoppedBySignal = 20;
    /// <summary>The guest ended well but tearing the machine down failed: a backend's flush at exit (data may not be on the disk), or a vCPU that would not stop.</summary>
    public const int TeardownFailed = 22;
    /// <summary>Our own output could not be written: standard output closed or failing (`check`, `config print`, `--help`).</summary>
    public const int OutputFailed = 24;

    /// <summary>bhyve(8)'s EXIT STATUS, used by the bhyve form.</summary>
    public static class Bhyve
    {
        public const int Rebooted = 0;
        public const int PoweredOff = 1;
        public const int Halted = 2;
        public const int TripleFault = 3;
        public const int Error = 4;
    }

    /// <summary>
    /// Our status in bhyve(8)'s terms: reset is bhyve's "rebooted" (0), power-off 1, triple fault 3, and every failure
    /// (bad command line, KVM, the host, our bugs, the console escape) 4, "exited due to an error". A debug-exit write
    /// keeps QEMU's (v &lt;&lt; 1) | 1 in both dialects: it is the guest's own choice, and v = 0 reads as bhyve's
    /// "powered off" (1), v = 1 as 3. Our own outcomes are all even, so an odd status is the guest's. bhyve has no
    /// "halted" outcome here (2 is never given).
    /// </summary>
    public static int ToBhyve(int status) => (status & 1) == 1 ? status : status switch
    {
        Reset => Bhyve.Rebooted,
        PoweredOff => Bhyve.PoweredOff,
        TripleFault => Bhyve.TripleFault,
        _ => Bhyve.Error,
    };

    /// <summary>The table `run --help` and the manual print.</summary>
    public const string Table =
        """
        Exit status:
          odd N  the guest wrote v to the debug-exit port 0x501: N = (v << 1) | 1, as QEMU's isa-debug-exit
          0      the guest powered off
          2      bad command line, configuration, input file or kernel image
          4      the guest triple-faulted
          6      KVM internal error, failed VM entry or unhandled VM exit (reason and RIP on stderr)
          8      this host cannot run VMs (see `bhyve-aot check`)
          10     internal VMM failure (a bug: please report it)
          12     the guest requested a reset (ACPI reset register or keyboard controller)
          14     the user quit from the console with ~. (stdin a terminal)
          16     bench storage: bhyve-aot's virtio-blk target failed (see the output)
          18     the host ran out of a resource: memory, file descriptors (which one on stderr)
          20     stopped on SIGTERM/SIGINT: the guest did not power off within --shutdown-timeout of the power button
          22     the guest ended, but flushing a disk at exit failed (data may not be on it) or a vCPU would not stop
          24     standard output could not be written
        Solo5 hvt unikernels exit as under solo5-hvt: the status the unikernel gives solo5_exit (0-255; 255 is an
        abort), or 1 when it faults (bad hypercall pointer, unknown port or hypercall, write to read-only memory).
        """;

    /// <summary>The bhyve form's table (bhyve(8) EXIT STATUS), printed by `bhyve-aot -h`.</summary>
    public const string BhyveTable =
        """
        Exit status in the bhyve form (bhyve(8)'s):
          0      the guest rebooted (asked for a reset; bhyve-aot stops, as bhyve does, for the wrapper to restart it)
          1      the guest powered off
          3      the guest triple-faulted
          4      exited due to an error (bad command line or file, KVM or host failure; one line on stderr)
          odd N  the guest wrote v to the debug-exit port 0x501: N = (v << 1) | 1 (v = 0 reads as 1, powered off)
        """;

    /// <summary>What the tools that only report (`check`, `config print`) return.</summary>
    public const string ToolTable =
        """
        Exit status:
          0      done
          2      bad command line, configuration or input file
          24     standard output could not be written
        """;
}

/// <summary>How a VM run ended: the process exit status and, for anything but a guest's own exit, one line saying why.</summary>
public readonly record struct VmExit(int Code, string? Message);
