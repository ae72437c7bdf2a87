namespace Bhyve.Aot.Vmm;

/// <summary>
/// The process exit status of bhyve-aot. Guest-chosen statuses are always odd (the debug-exit device gives
/// (value &lt;&lt; 1) | 1, as QEMU's isa-debug-exit does); the VMM's own outcomes are even, so the two never collide.
/// </summary>
public static class ExitCodes
{
    /// <summary>The guest powered off (ACPI S5 through the sleep control register, or KVM system event shutdown); `check`: the host can run VMs.</summary>
    public const int PoweredOff = 0;
    /// <summary>
    /// A Solo5 hvt unikernel faulted: a bad hypercall pointer, an unknown port or hypercall, a write to its
    /// read-only pages, a triple fault. solo5-hvt exits 1 for all of these, and so do we for hvt guests.
    /// (An hvt guest's own status, from the halt hypercall, is the process status unchanged, as with solo5-hvt.)
    /// </summary>
    public const int GuestFault = 1;
    /// <summary>A bad command line, configuration value or kernel image.</summary>
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

    public const string Table =
        """
        Exit status:
          odd N  the guest wrote v to the debug-exit port 0x501: N = (v << 1) | 1, as QEMU's isa-debug-exit
          0      the guest powered off
          2      bad command line, configuration or kernel image
          4      the guest triple-faulted
          6      KVM internal error, failed VM entry or unhandled VM exit (reason and RIP on stderr)
          8      this host cannot run VMs (see `bhyve-aot check`)
          10     internal VMM failure
          12     the guest requested a reset (ACPI reset register or keyboard controller)
          14     the user quit from the console with ~. (stdin a terminal)
          16     bench storage: bhyve-aot's virtio-blk target failed (see the output)
          18     the host ran out of a resource: memory, file descriptors (which one on stderr)
        Solo5 hvt unikernels exit as under solo5-hvt: the status the unikernel gives solo5_exit (0-255; 255 is an
        abort), or 1 when it faults (bad hypercall pointer, unknown port or hypercall, write to read-only memory).
        """;
}

/// <summary>How a VM run ended: the process exit status and, for anything but a guest's own exit, one line saying why.</summary>
public readonly record struct VmExit(int Code, string? Message);
