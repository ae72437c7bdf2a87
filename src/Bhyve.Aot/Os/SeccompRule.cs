namespace Bhyve.Aot.Os;

/// <summary>Which threads a seccomp rule applies to (flags: one rule may serve several kinds).</summary>
[Flags]
public enum SeccompThreadKind
{
    None = 0,
    /// <summary>The process's first thread once the guest runs: waits for the end, restores the terminal, reports.</summary>
    Main = 1,
    /// <summary>A vCPU: KVM_RUN and the device exits it emulates (activation creates engines and worker threads).</summary>
    Vcpu = 2,
    /// <summary>A device queue thread: doorbells, the block engine, interrupts.</summary>
    DeviceWorker = 4,
    /// <summary>The API server thread (Unix socket).</summary>
    Api = 8,
    All = Main | Vcpu | DeviceWorker | Api,
}

/// <summary>How a rule constrains one argument: any value, one of a set (low 32 bits compared), or no bit of a mask set.</summary>
public enum SeccompArgCheck { Any, OneOf, NoBitsOf }

/// <summary>
/// One line of the policy table: a system call (x86-64 number and name), the thread kinds that may make it, and an
/// optional check on one argument: ioctl request numbers, mmap/mprotect protection bits, socket families, prctl options.
/// </summary>
public sealed record SeccompRule(int Number, string Name, SeccompThreadKind Kinds, int Arg = 0, SeccompArgCheck Check = SeccompArgCheck.Any, uint[]? Values = null)
{
    public static SeccompRule OneOf(int number, string name, SeccompThreadKind kinds, int arg, params uint[] values) =>
        new(number, name, kinds, arg, SeccompArgCheck.OneOf, values);

    public static SeccompRule NoBitsOf(int number, string name, SeccompThreadKind kinds, int arg, uint mask) =>
        new(number, name, kinds, arg, SeccompArgCheck.NoBitsOf, [mask]);
}
