using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>
/// seccomp-BPF (linux/seccomp.h, linux/filter.h, linux/bpf_common.h, linux/audit.h; x86-64): the classic BPF
/// instructions a filter is made of, the seccomp_data it reads, the return actions, and the syscalls that install it.
/// </summary>
internal static class SeccompAbi
{
    public const long SysSeccomp = 317;
    public const uint SetModeFilter = 1;
    public const uint FilterFlagTsync = 1;

    public const int PrSetNoNewPrivs = 38, PrSetName = 15, PrGetName = 16;

    /// <summary>SECCOMP_RET_*: the action in the top 16 bits; ERRNO and TRAP carry data in the low 16.</summary>
    public const uint RetKillProcess = 0x8000_0000, RetKillThread = 0, RetTrap = 0x0003_0000, RetErrno = 0x0005_0000, RetAllow = 0x7FFF_0000;

    /// <summary>AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.</summary>
    public const uint AuditArchX86_64 = 0xC000_003E;

    /// <summary>Syscall numbers at or above this are the x32 ABI on x86-64: never ours.</summary>
    public const uint X32SyscallBit = 0x4000_0000;

    /// <summary>struct seccomp_data offsets: nr, arch, instruction_pointer, args[6] (each 64-bit, little-endian).</summary>
    public const uint DataNr = 0, DataArch = 4, DataArgs = 16;

    /// <summary>BPF opcodes (BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_ALU|BPF_AND|BPF_K, BPF_RET|BPF_K).</summary>
    public const ushort LdWAbs = 0x20, JeqK = 0x15, AndK = 0x54, RetK = 0x06;

    /// <summary>BPF_MAXINSNS: the kernel's limit on one program.</summary>
    public const int MaxInstructions = 4096;

    /// <summary>SIGSYS, and siginfo_t's SIGSYS fields (_sigsys: call_addr at 16, syscall at 24, arch at 28).</summary>
    public const int SigSys = 31;
    public const int SigInfoSyscallOffset = 24;
    public const int SaSigInfo = 4, SaRestorer = 0x0400_0000, SaOnStack = 0x0800_0000;
}

/// <summary>struct sock_filter (8 bytes): one classic BPF instruction.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockFilter(ushort code, byte jt, byte jf, uint k)
{
    public ushort Code = code;
    public byte Jt = jt, Jf = jf;
    public uint K = k;
}

/// <summary>struct sock_fprog (16 bytes on x86-64): the program handed to seccomp(SET_MODE_FILTER).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockFprog
{
    public ushort Len;
    // SAFETY: points at a pinned SockFilter array of Len entries for the duration of the seccomp call only
    public unsafe SockFilter* Filter;
}

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>sigaction(2) through libc, which supplies the sa_restorer trampoline.</summary>
    // SAFETY: a binding only; callers pass a struct sigaction of glibc's layout on their stack (oldact may be null)
    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    public static unsafe partial int Sigaction(int signum, void* act, void* oldact);
}
