using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>
/// A Linux eventfd: the one cross-thread and kernel-to-user signal of the I/O path (ioeventfd doorbells,
/// irqfd interrupts, io_uring and synchronous-engine completions, stop requests). Signal and Drain are single
/// syscalls, no allocation.
/// </summary>
public sealed class EventFd : IDisposable
{
    private int _fd;

    public EventFd(bool nonBlocking = true)
    {
        _fd = Libc.EventFd(0, Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0));
        if (_fd < 0) throw new ErrnoException("eventfd", Libc.LastErrno);
    }

    public int Fd => _fd;

    // SAFETY: write(2) reads exactly 8 bytes from `one`, a local on this frame.
    public unsafe void Signal()
    {
        ulong one = 1;
        Libc.Write(_fd, &one, 8);
    }

    /// <summary>Reads and clears the counter; 0 when nothing was signalled (EAGAIN on a non-blocking one).</summary>
    // SAFETY: read(2) writes at most 8 bytes into `value`, a local on this frame.
    public unsafe ulong Drain()
    {
        ulong value = 0;
        return Libc.Read(_fd, &value, 8) == 8 ? value : 0;
    }

    public void Dispose()
    {
        if (_fd >= 0) { Libc.Close(_fd); _fd = -1; }
    }
}
