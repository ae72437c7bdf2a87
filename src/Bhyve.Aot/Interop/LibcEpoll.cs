using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>struct epoll_event as x86-64 Linux lays it out (packed: 12 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public const uint In = 0x001, Err = 0x008, Hup = 0x010;
    public uint Events;
    public ulong Data;
}

internal static partial class Libc
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    // SAFETY: a binding only; callers pass one EpollEvent on their stack
    public static unsafe partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);


    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    // SAFETY: a binding only; callers pass a buffer of at least maxEvents EpollEvents
    public static unsafe partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);

}
