using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

internal static partial class Libc
{
    public const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;

    /// <summary>socket(2): here only a datagram socket to ask interface ioctls (SIOCGIFMTU, SIOCGIFFLAGS) on.</summary>
    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);
}
