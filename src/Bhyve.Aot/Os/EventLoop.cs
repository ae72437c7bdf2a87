using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>
/// An epoll set owned by one thread: file descriptors registered with a handler token, a stop eventfd that any
/// thread may signal, and an optional timeout per wait (the timer). Wait fills a caller's span with the tokens
/// that became ready and never allocates; the thread that owns the loop is the only one that waits on it.
/// </summary>
public sealed class EventLoop : IDisposable
{
    /// <summary>The token Wait reports when RequestStop was called.</summary>
    public const int StopToken = -1;
    private const int MaxEventsPerWait = 16;

    private readonly EventFd _stop = new();
    private int _epoll;
    private volatile bool _stopRequested;

    public EventLoop()
    {
        _epoll = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0) throw new ErrnoException("epoll_create1", Libc.LastErrno);
        Add(_stop.Fd, StopToken);
    }

    /// <summary>True once RequestStop was called (sticky: the loop's owner checks it between passes).</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>Watches fd for readability; Wait reports token when it is readable. token must not be StopToken.</summary>
    // SAFETY: ev lives on this frame for the whole call; the kernel copies it.
    public unsafe void Add(int fd, int token)
    {
        var ev = new EpollEvent { Events = EpollEvent.In, Data = (ulong)(uint)token };
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, fd, &ev) < 0) throw new ErrnoException("epoll_ctl ADD", Libc.LastErrno);
    }

    // SAFETY: EPOLL_CTL_DEL ignores the event pointer; null is what the man page asks for.
    public unsafe void Remove(int fd)
    {
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, fd, null) < 0) throw new ErrnoException("epoll_ctl DEL", Libc.LastErrno);
    }

    /// <summary>Asks the owner to stop: Wait returns StopToken from now on, on any thread's call.</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _stop.Signal();
    }

    /// <summary>
    /// Sleeps until a registered fd is readable, the stop eventfd is signalled or timeoutMs passes (-1: no timeout).
    /// Writes the ready tokens into ready and returns how many (0 on timeout or EINTR). Level-triggered: the
    /// handler drains its fd (EventFd.Drain) or the token comes back on the next wait. The stop eventfd is left
    /// signalled so that every later wait returns at once.
    /// </summary>
    // SAFETY: events is a stack buffer of MaxEventsPerWait entries and epoll_wait is told max <= that many.
    public unsafe int Wait(Span<int> ready, int timeoutMs = -1)
    {
        EpollEvent* events = stackalloc EpollEvent[MaxEventsPerWait];
        int max = Math.Min(MaxEventsPerWait, ready.Length);
        int n = Libc.EpollWait(_epoll, events, max, timeoutMs);
        if (n < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR) return 0;
            throw new ErrnoException("epoll_wait", errno);
        }
        for (int i = 0; i < n; i++) ready[i] = (int)(uint)events[i].Data;
        return n;
    }

    /// <summary>Waits up to timeoutMs for one fd to become readable (no loop needed); true when it is.</summary>
    // SAFETY: fd is a local PollFd on this frame and poll is told there is exactly one.
    public static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        var p = new PollFd { Fd = fd, Events = PollFd.PollIn };
        return Libc.Poll(&p, 1, timeoutMs) > 0;
    }

    public void Dispose()
    {
        if (_epoll >= 0) { Libc.Close(_epoll); _epoll = -1; }
        _stop.Dispose();
    }
}
