using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

internal static partial class Libc
{
    // SAFETY: a binding only; callers pass count PollFd structs on their stack
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);
}
