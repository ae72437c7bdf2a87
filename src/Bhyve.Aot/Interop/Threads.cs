using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>Thread ids and thread-directed signals: how a vCPU halted inside KVM_RUN is made to return (EINTR).</summary>
internal static partial class Threads
{
    public const int SIGUSR2 = 12;

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    public static partial int TgKill(int tgid, int tid, int signal);
}
