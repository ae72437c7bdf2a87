using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);
}
