using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// A block engine the test controls: requests are held "in the kernel" until CompleteAll, Submit can be made to
/// throw (a host failure such as io_uring_enter ENOMEM), and Refuse makes every Try* say "no room" while requests
/// are in flight, as an O_DIRECT engine does when its bounce buffers are all in use. No data is moved. Thread-safe,
/// so a test may complete requests while a worker thread owns the engine.
/// </summary>
internal sealed class FakeBlockEngine : IBlockEngine
{
    private readonly EventFd _signal = new();
    private readonly Queue<BlockCompletion> _held = new();
    private readonly Queue<BlockCompletion> _done = new();
    private readonly Lock _lock = new();

    public string Name => "fake";
    public int CompletionEventFd => _signal.Fd;
    public int Capacity { get; init; } = 64;
    public int InFlight { get { lock (_lock) return _held.Count + _done.Count; } }
    public Exception? ThrowOnSubmit { get; set; }
    /// <summary>How many Submit calls throw ThrowOnSubmit before the engine works again (a transient ENOMEM).</summary>
    public int Throws { get; set; } = int.MaxValue;
    /// <summary>Submit completes every held request at once, as a fast disk would.</summary>
    public bool AutoComplete { get; set; }
    public bool Refuse { get; set; }
    public int Accepted, Submits;
    public bool Disposed;

    /// <summary>Result every held request completes with (0: flushes succeed; reads and writes need their length).</summary>
    public Func<ulong, int> ResultOf { get; set; } = _ => 0;

    private bool Take(ulong userData)
    {
        lock (_lock)
        {
            int inFlight = _held.Count + _done.Count;
            if (inFlight >= Capacity || (Refuse && inFlight > 0)) return false;
            Accepted++;
            _held.Enqueue(new BlockCompletion(userData, 0));
            return true;
        }
    }

    public bool TryRead(ulong offset, ReadOnlySpan<IoVec> iov, ulong userData) => Take(userData);
    public bool TryWrite(ulong offset, ReadOnlySpan<IoVec> iov, bool fua, ulong userData) => Take(userData);
    public bool TryFlush(ulong userData) => Take(userData);
    public bool TryDiscard(ulong offset, ulong length, ulong userData) => Take(userData);
    public bool TryWriteZeroes(ulong offset, ulong length, bool mayUnmap, ulong userData) => Take(userData);

    public void Submit()
    {
        Submits++;
        if (ThrowOnSubmit is { } e && Throws > 0)
        {
            Throws--;
            throw e;
        }
        if (AutoComplete) CompleteAll();
    }

    /// <summary>Finishes every held request and signals the completion eventfd.</summary>
    public void CompleteAll()
    {
        lock (_lock)
            while (_held.TryDequeue(out var c)) _done.Enqueue(c with { Result = ResultOf(c.UserData) });
        _signal.Signal();
    }

    public void AcknowledgeCompletionSignal() => _signal.Drain();

    public int Reap(Span<BlockCompletion> completions)
    {
        lock (_lock)
        {
            int n = 0;
            while (n < completions.Length && _done.TryDequeue(out var c)) completions[n++] = c;
            return n;
        }
    }

    public void Dispose()
    {
        Disposed = true;
        _signal.Dispose();
    }
}
