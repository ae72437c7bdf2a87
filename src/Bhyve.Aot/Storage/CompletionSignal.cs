using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>A non-blocking eventfd that tells a queue's I/O thread completions are waiting.</summary>
internal sealed unsafe class CompletionSignal : IDisposable
{
    public CompletionSignal()
    {
        Fd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (Fd < 0) throw new BlockFileException($"cannot create the completion eventfd: {Libc.Describe(Libc.LastErrno)}", Libc.LastErrno);
    }

    public int Fd { get; private set; }

    public void Signal()
    {
        ulong one = 1;
        Libc.Write(Fd, &one, sizeof(ulong));
    }

    /// <summary>Resets the counter; EAGAIN (already zero) is the normal answer when nothing new arrived.</summary>
    public void Drain()
    {
        ulong value;
        Libc.Read(Fd, &value, sizeof(ulong));
    }

    public void Dispose()
    {
        if (Fd >= 0) Libc.Close(Fd);
        Fd = -1;
    }
}
