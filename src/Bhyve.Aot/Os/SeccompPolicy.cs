using static Bhyve.Aot.Os.SeccompThreadKind;

namespace Bhyve.Aot.Os;

/// <summary>
/// THE seccomp table: every system call a thread of ours may make once the guest runs, by thread kind, with the
/// argument checks that matter. The filters of all kinds are compiled from it (SeccompProgram); nothing else lists
/// syscalls. Numbers are x86-64 (asm/unistd_64.h).
///
/// Why the lists look the way they do:
/// - Everything the .NET runtime does on any thread: GC (mmap/munmap/madvise/mprotect without PROT_EXEC,
///   membarrier, tgkill to suspend threads, futex), thread start and exit (rseq, set_robust_list, prctl name).
/// - Filters are inherited by threads a filtered thread creates. A vCPU activates devices (their worker threads
///   and io_uring engines) and wakes thread-pool threads (console output), so its list covers what they need before
///   they install their own; a device worker then stacks its tighter filter (the kernel applies both).
/// - No open for writing or creating (read-only openat is allowed: the runtime reads /sys and /dev/urandom lazily on
///   new threads), no execve, socket (except AF_UNIX on the API thread), ptrace, mount, or KVM ioctls that create or
///   reshape the VM after boot.
/// </summary>
public static class SeccompPolicy
{
    // The namespace Bhyve.Aot.Api would hide the enum member imported by `using static`: the kind, by name, here.
    private const SeccompThreadKind Api = SeccompThreadKind.Api;
    private const uint ProtExec = 4;
    private const uint PrSetName = 15, PrGetName = 16, PrSetNoNewPrivs = 38;
    private const uint SeccompSetModeFilter = 1;
    private const uint AfUnix = 1;
    /// <summary>O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE: any of them makes an open able to change a file.</summary>
    private const uint OpenForWriting = 0x1 | 0x2 | 0x40 | 0x200 | 0x400 | 0x400000;

    // KVM ioctls (Interop/KvmIoctl.cs numbers, repeated here so the table stands alone and a test compares them).
    public const uint KvmRun = 0xAE80, KvmIrqLine = 0x4008AE61, KvmSetGsiRouting = 0x4008AE6A, KvmIrqfd = 0x4020AE76,
        KvmIoeventfd = 0x4040AE79, KvmSignalMsi = 0x4020AEA5, KvmGetRegs = 0x8090AE81, KvmSetRegs = 0x4090AE82,
        KvmGetSregs = 0x8138AE83, KvmSetSregs = 0x4138AE84;

    // Terminal ioctls: the console's raw mode is restored at exit; the runtime asks whether stdout is a terminal.
    public const uint Tcgets = 0x5401, Tcsets = 0x5402, Tcsetsw = 0x5403, Tcsetsf = 0x5404, Tiocgwinsz = 0x5413;

    public static IReadOnlyList<SeccompRule> Rules => s_rules;

    private static readonly SeccompRule[] s_rules =
    [
        // ---- every thread: memory, signals, time, futexes, thread life ----
        new(0, "read", All),
        new(1, "write", All),
        new(3, "close", All),
        new(7, "poll", All),
        new(271, "ppoll", All),
        SeccompRule.NoBitsOf(9, "mmap", All, 2, ProtExec),
        SeccompRule.NoBitsOf(10, "mprotect", All, 2, ProtExec),
        new(11, "munmap", All),
        new(12, "brk", All),
        new(25, "mremap", All),
        new(28, "madvise", All),
        new(14, "rt_sigprocmask", All),
        new(15, "rt_sigreturn", All),
        new(131, "sigaltstack", All),
        new(24, "sched_yield", All),
        new(204, "sched_getaffinity", All),
        new(35, "nanosleep", All),
        new(230, "clock_nanosleep", All),
        new(228, "clock_gettime", All),
        new(229, "clock_getres", All),
        new(39, "getpid", All),
        new(186, "gettid", All),
        new(202, "futex", All),
        new(324, "membarrier", All),
        new(234, "tgkill", All),
        new(219, "restart_syscall", All),
        new(273, "set_robust_list", All),
        new(334, "rseq", All),
        new(318, "getrandom", All),
        // Thread names, and no_new_privs before a thread started by a filtered one adds its own filter.
        SeccompRule.OneOf(157, "prctl", All, 0, PrSetName, PrGetName, PrSetNoNewPrivs),
        new(60, "exit", All),
        new(231, "exit_group", All),
        // The runtime reads a few files lazily on new threads (/sys/devices/system/cpu/online, /dev/urandom), and
        // thread-pool threads inherit the filter of the thread that started them: opening read-only is allowed,
        // opening for writing or creating never.
        SeccompRule.NoBitsOf(257, "openat", All, 2, OpenForWriting),
        new(5, "fstat", All),
        new(232, "epoll_wait", All),
        new(281, "epoll_pwait", All),
        new(233, "epoll_ctl", All),

        // ---- block I/O on the backing files (both engines) and eventfds ----
        new(426, "io_uring_enter", Vcpu | DeviceWorker),
        new(17, "pread64", Vcpu | DeviceWorker),
        new(18, "pwrite64", Vcpu | DeviceWorker),
        new(19, "readv", Vcpu | DeviceWorker),
        new(20, "writev", Vcpu | DeviceWorker),
        new(295, "preadv", Vcpu | DeviceWorker),
        new(296, "pwritev", Vcpu | DeviceWorker),
        new(327, "preadv2", Vcpu | DeviceWorker),
        new(328, "pwritev2", Vcpu | DeviceWorker),
        // The main thread flushes every writable backing file at teardown (after the vCPUs and workers stopped).
        new(74, "fsync", Main | Vcpu | DeviceWorker),
        new(75, "fdatasync", Main | Vcpu | DeviceWorker),
        new(285, "fallocate", Vcpu | DeviceWorker),

        // ---- device activation on a vCPU: engines, eventfds, worker and thread-pool threads ----
        // Worker threads a vCPU starts add their own (tighter) filter: seccomp can only ever restrict further.
        SeccompRule.OneOf(317, "seccomp", Vcpu, 0, SeccompSetModeFilter),
        new(425, "io_uring_setup", Vcpu),
        new(427, "io_uring_register", Vcpu),
        new(290, "eventfd2", Vcpu | Api),
        new(291, "epoll_create1", Vcpu | Api),   // a device worker's EventLoop is made at activation
        new(435, "clone3", Main | Vcpu | Api),
        new(56, "clone", Main | Vcpu | Api),
        new(13, "rt_sigaction", Main | Vcpu | Api),
        new(72, "fcntl", Main | Vcpu | Api),
        new(293, "pipe2", Main | Vcpu),
        new(98, "getrusage", Main | Vcpu),

        // ---- ioctl: by request number, per kind ----
        SeccompRule.OneOf(16, "ioctl", Vcpu, 1, KvmRun, KvmIrqLine, KvmSetGsiRouting, KvmIrqfd, KvmIoeventfd, KvmSignalMsi,
                          KvmGetRegs, KvmSetRegs, KvmGetSregs, KvmSetSregs, Tcgets, Tiocgwinsz),
        SeccompRule.OneOf(16, "ioctl", DeviceWorker, 1, KvmIrqLine, KvmSetGsiRouting, KvmIrqfd, KvmIoeventfd, KvmSignalMsi),
        // Teardown on the main thread unbinds the devices' doorbells and interrupts (ioeventfd/irqfd deassign).
        SeccompRule.OneOf(16, "ioctl", Main, 1, Tcgets, Tcsets, Tcsetsw, Tcsetsf, Tiocgwinsz, KvmIrqfd, KvmIoeventfd, KvmSetGsiRouting),

        // ---- the API thread: its Unix socket ----
        SeccompRule.OneOf(41, "socket", Api, 0, AfUnix),
        new(288, "accept4", Api),
        new(45, "recvfrom", Api),
        new(44, "sendto", Api),
        new(47, "recvmsg", Api),
        new(46, "sendmsg", Api),
        new(48, "shutdown", Api),

    ];

    /// <summary>A name for a syscall number in the one-line violation report (the table's, or a few notable others).</summary>
    public static string NameOf(int number)
    {
        // An index loop over the array: this runs in the SIGSYS handler and must not allocate an enumerator.
        for (int i = 0; i < s_rules.Length; i++)
            if (s_rules[i].Number == number) return s_rules[i].Name;
        return number switch
        {
            2 => "open", 257 => "openat", 59 => "execve", 322 => "execveat", 57 => "fork", 58 => "vfork", 41 => "socket",
            42 => "connect", 49 => "bind", 50 => "listen", 101 => "ptrace", 165 => "mount", 62 => "kill", 87 => "unlink",
            263 => "unlinkat", 82 => "rename", 90 => "chmod", 92 => "chown", 105 => "setuid", 106 => "setgid",
            272 => "unshare", 308 => "setns", 321 => "bpf", 317 => "seccomp", 310 => "process_vm_readv",
            311 => "process_vm_writev", 262 => "newfstatat", 332 => "statx", 4 => "stat", 6 => "lstat", 5 => "fstat",
            8 => "lseek", 32 => "dup", 33 => "dup2", 292 => "dup3", 63 => "uname", 99 => "sysinfo", 302 => "prlimit64",
            _ => "?",
        };
    }
}
