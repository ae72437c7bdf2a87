using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>
/// Installs the seccomp filter of a thread kind on the calling thread (SeccompPolicy compiled by SeccompProgram).
/// Threads call EnterThread themselves once their setup is done and before they touch guest-controlled data:
/// vCPUs at the top of their loop, device workers before their loop, the main thread once the guest runs.
/// Runtime threads (GC, finalizer, thread-pool gate, signal handler) start before and stay unfiltered; a thread
/// created by a filtered thread inherits its creator's filter (the kernel's rule), which SeccompPolicy accounts for.
///
/// A forbidden call raises SIGSYS (SECCOMP_RET_TRAP); the handler writes one line naming the thread and the call
/// and ends the process with the violation status (exit_group, so no other thread runs on). The filter's own
/// architecture checks kill outright. Off unless Configure enabled it (`bhyve-aot run` does; `--seccomp=off`).
/// </summary>
public static class SeccompFilter
{
    private static volatile bool s_enabled;
    private static int s_violationStatus = 1;
    private static int s_handlerInstalled;
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<SeccompThreadKind, SockFilter[]> s_programs = [];

    [ThreadStatic] private static SeccompThreadKind t_kind;

    public static bool Enabled => s_enabled;

    /// <summary>The kind this thread entered (None when unfiltered).</summary>
    public static SeccompThreadKind CurrentKind => t_kind;

    /// <summary>
    /// Turns filtering on or off for the process; on, it checks the kernel has seccomp filters and compiles every
    /// kind's program, so a broken table or host fails here, in one line, not on some thread later.
    /// </summary>
    public static void Configure(bool enabled, int violationStatus)
    {
        s_violationStatus = violationStatus;
        if (enabled)
        {
            // PR_GET_SECCOMP (21): 0 = not filtered yet; EINVAL = kernel without seccomp.
            if (Libc.Prctl(21, 0, 0, 0, 0) < 0)
                throw new SeccompException($"this kernel has no seccomp ({Libc.Describe(Libc.LastErrno)}); run with --seccomp=off");
            foreach (var kind in (ReadOnlySpan<SeccompThreadKind>)[SeccompThreadKind.Main, SeccompThreadKind.Vcpu, SeccompThreadKind.DeviceWorker, SeccompThreadKind.Api])
                Program(kind);
        }
        s_enabled = enabled;
    }

    /// <summary>The compiled program of a kind (cached; tests read it).</summary>
    internal static SockFilter[] Program(SeccompThreadKind kind)
    {
        lock (s_lock)
        {
            if (!s_programs.TryGetValue(kind, out var p))
                s_programs[kind] = p = SeccompProgram.Compile(SeccompPolicy.Rules, kind, SeccompAbi.RetTrap);
            return p;
        }
    }

    /// <summary>Filters the calling thread as `kind` (stacking on a filter it inherited). Nothing when disabled.</summary>
    public static void EnterThread(SeccompThreadKind kind)
    {
        if (!s_enabled) return;
        Install(kind, Program(kind));
    }

    /// <summary>Installs a program on the calling thread: no_new_privs (required without CAP_SYS_ADMIN), then the filter.</summary>
    // SAFETY: the program array is pinned (fixed) and sock_fprog lives on our stack for the whole seccomp call
    internal static unsafe void Install(SeccompThreadKind kind, SockFilter[] program)
    {
        InstallHandlerOnce();
        if (Libc.Prctl(SeccompAbi.PrSetNoNewPrivs, 1, 0, 0, 0) < 0)
            throw new SeccompException($"prctl(PR_SET_NO_NEW_PRIVS) failed: {Libc.Describe(Libc.LastErrno)}");
        fixed (SockFilter* f = program)
        {
            var prog = new SockFprog { Len = (ushort)program.Length, Filter = f };
            if (Libc.Syscall(SeccompAbi.SysSeccomp, SeccompAbi.SetModeFilter, 0, (long)&prog, 0, 0, 0) < 0)
                throw new SeccompException($"seccomp(SET_MODE_FILTER) for a {kind} thread failed: {Libc.Describe(Libc.LastErrno)}");
        }
        t_kind = kind;
    }

    /// <summary>SIGSYS → OnViolation, process-wide, once. glibc's sigaction supplies the restorer.</summary>
    // SAFETY: the 152-byte struct sigaction is on our stack, cleared, and written only at glibc's x86-64 offsets
    private static unsafe void InstallHandlerOnce()
    {
        if (Interlocked.Exchange(ref s_handlerInstalled, 1) != 0) return;
        // struct sigaction (glibc, x86-64): handler at 0, sa_mask (128 bytes) at 8, sa_flags at 136, sa_restorer at 144.
        byte* act = stackalloc byte[152];
        new Span<byte>(act, 152).Clear();
        *(delegate* unmanaged<int, void*, void*, void>*)act = &OnViolation;
        *(int*)(act + 136) = SeccompAbi.SaSigInfo;
        if (Libc.Sigaction(SeccompAbi.SigSys, act, null) < 0)
            throw new SeccompException($"sigaction(SIGSYS) failed: {Libc.Describe(Libc.LastErrno)}");
    }

    /// <summary>
    /// The SIGSYS handler: one line, then exit_group(violation status). It allocates nothing and makes only calls
    /// every filter allows (prctl PR_GET_NAME, write, exit_group).
    /// SAFETY: info is the kernel's siginfo_t for this SIGSYS; si_syscall lies at offset 24 (asm-generic/siginfo.h).
    /// </summary>
    // SAFETY: info is the kernel's siginfo_t for this SIGSYS (si_syscall at offset 24); every buffer is on our stack and bounded
    [UnmanagedCallersOnly]
    private static unsafe void OnViolation(int signal, void* info, void* context)
    {
        int nr = *(int*)((byte*)info + SeccompAbi.SigInfoSyscallOffset);
        byte* name = stackalloc byte[17];
        new Span<byte>(name, 17).Clear();
        Libc.Prctl(SeccompAbi.PrGetName, (nuint)name, 0, 0, 0);
        Span<byte> line = stackalloc byte[256];
        int n = 0;
        Append(line, ref n, "bhyve-aot: seccomp: thread '");
        for (int i = 0; i < 16 && name[i] != 0; i++) line[n++] = name[i];
        Append(line, ref n, "' (");
        Append(line, ref n, KindName(t_kind));
        Append(line, ref n, ") made a forbidden system call ");
        AppendNumber(line, ref n, nr);
        Append(line, ref n, " (");
        Append(line, ref n, SeccompPolicy.NameOf(nr));
        Append(line, ref n, "); stopping the VM (--seccomp=off runs without filters)\n");
        fixed (byte* p = line) Libc.Write(2, p, (nuint)n);
        Libc.Syscall(231, s_violationStatus, 0, 0, 0, 0, 0); // exit_group
    }

    private static string KindName(SeccompThreadKind kind) => kind switch
    {
        SeccompThreadKind.Main => "main",
        SeccompThreadKind.Vcpu => "vcpu",
        SeccompThreadKind.DeviceWorker => "device worker",
        SeccompThreadKind.Api => "api",
        _ => "inherited filter only",
    };

    private static void Append(Span<byte> line, ref int n, string text)
    {
        foreach (char c in text)
            if (n < line.Length - 1) line[n++] = (byte)(c < 128 ? c : '?');
    }

    private static void AppendNumber(Span<byte> line, ref int n, int value)
    {
        Span<byte> digits = stackalloc byte[12];
        int d = 0;
        uint v = (uint)Math.Abs((long)value);
        do { digits[d++] = (byte)('0' + v % 10); v /= 10; } while (v != 0);
        if (value < 0 && n < line.Length) line[n++] = (byte)'-';
        while (d > 0 && n < line.Length - 1) line[n++] = digits[--d];
    }
}

/// <summary>Seccomp could not be set up: one line for the user (the remedy is --seccomp=off).</summary>
public sealed class SeccompException(string message) : Exception(message);
