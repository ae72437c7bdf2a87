namespace Bhyve.Aot.Storage;

/// <summary>
/// A per-queue block engine, used by exactly one thread (a device queue's I/O thread); nothing on it allocates.
///
/// The Try* methods prepare one request and return false when the engine is full (Capacity requests in flight,
/// or no bounce buffer free): reap, then retry. iov may live on the caller's stack: the engine copies it.
/// Requests it rejects up front (too many segments, misaligned O_DIRECT offsets) still return true and complete
/// with -EINVAL, so every accepted request produces exactly one completion.
///
/// Loop: epoll CompletionEventFd → AcknowledgeCompletionSignal → Reap until it returns less than asked → prepare → Submit.
/// </summary>
public interface IBlockEngine : IDisposable
{
    /// <summary>"io_uring" or "synchronous fallback" (what `check` and `run --stats` print).</summary>
    string Name { get; }

    /// <summary>An eventfd (non-blocking) that becomes readable when completions are ready; epoll it.</summary>
    int CompletionEventFd { get; }

    /// <summary>How many requests can be in flight.</summary>
    int Capacity { get; }

    /// <summary>Requests accepted and not yet reaped.</summary>
    int InFlight { get; }

    bool TryRead(ulong offset, ReadOnlySpan<IoVec> iov, ulong userData);

    /// <summary>fua: the data is on stable storage when the request completes.</summary>
    bool TryWrite(ulong offset, ReadOnlySpan<IoVec> iov, bool fua, ulong userData);

    /// <summary>Commits every completed write (fdatasync).</summary>
    bool TryFlush(ulong userData);

    /// <summary>Deallocates a range; afterwards it reads as zeroes on files (a hole).</summary>
    bool TryDiscard(ulong offset, ulong length, ulong userData);

    /// <summary>Makes a range read as zeroes; mayUnmap lets the engine deallocate it.</summary>
    bool TryWriteZeroes(ulong offset, ulong length, bool mayUnmap, ulong userData);

    /// <summary>Pushes everything prepared to the kernel (one syscall for a batch).</summary>
    void Submit();

    /// <summary>Reads the eventfd down to zero (non-blocking). Call it before Reap so no wakeup is lost.</summary>
    void AcknowledgeCompletionSignal();

    /// <summary>Drains up to completions.Length finished requests; never blocks.</summary>
    int Reap(Span<BlockCompletion> completions);
}
