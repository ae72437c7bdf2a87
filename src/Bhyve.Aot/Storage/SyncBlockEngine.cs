using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The fallback when io_uring cannot be used: each request runs at once on the calling thread
/// (preadv / pwritev2 / fdatasync / fallocate), its completion is queued, and Submit signals the eventfd once per
/// batch. Same contract as the io_uring engine, including the WRITE ZEROES fallback and O_DIRECT bouncing;
/// FUA is pwritev2(RWF_DSYNC). Short transfers are reported as they are.
/// </summary>
public sealed class SyncBlockEngine : IBlockEngine
{
    private readonly BlockFile _file;
    private readonly CompletionSignal _signal;
    private readonly BlockCompletion[] _completions;
    private readonly BounceBufferPool? _bounce;
    private readonly int _maxSegments;
    private int _head, _count, _unsignalled;

    public SyncBlockEngine(BlockFile file, BlockEngineOptions options)
    {
        if (options.QueueDepth <= 0 || options.MaxSegments <= 0) throw new ArgumentOutOfRangeException(nameof(options));
        _file = file;
        Capacity = options.QueueDepth;
        _maxSegments = options.MaxSegments;
        _completions = new BlockCompletion[Capacity];
        _signal = new CompletionSignal();
        // One request at a time is ever in the kernel, so one bounce buffer is enough.
        if (file.Direct) _bounce = new BounceBufferPool(1, options.BounceBufferBytes, file.MemoryAlignment);
    }

    public string Name => BlockEngineRequirements.SynchronousEngine;
    public int CompletionEventFd => _signal.Fd;
    public int Capacity { get; }
    public int InFlight => _count;

    public bool TryRead(ulong offset, ReadOnlySpan<IoVec> iov, ulong userData) =>
        _count < Capacity && Complete(userData, Transfer(false, offset, iov, 0));

    public bool TryWrite(ulong offset, ReadOnlySpan<IoVec> iov, bool fua, ulong userData) =>
        _count < Capacity && Complete(userData, Transfer(true, offset, iov, fua ? BlockAbi.RwfDsync : 0));

    public bool TryFlush(ulong userData) =>
        _count < Capacity && Complete(userData, Libc.Fdatasync(_file.Fd) == 0 ? 0 : -Libc.LastErrno);

    public bool TryDiscard(ulong offset, ulong length, ulong userData) =>
        _count < Capacity && Complete(userData, Fallocate(FallocateModes.Discard, offset, length));

    public bool TryWriteZeroes(ulong offset, ulong length, bool mayUnmap, ulong userData)
    {
        if (_count >= Capacity) return false;
        int mode = FallocateModes.ForWriteZeroes(mayUnmap);
        int result = Fallocate(mode, offset, length);
        if (result == -BlockAbi.EOPNOTSUPP)
        {
            int fallback = FallocateModes.WriteZeroesFallback(mode, _file.IsBlockDevice);
            if (fallback != 0) result = Fallocate(fallback, offset, length);
        }
        return Complete(userData, result);
    }

    /// <summary>The work is already done; this only wakes whoever waits on the eventfd.</summary>
    public void Submit()
    {
        if (_unsignalled == 0) return;
        _unsignalled = 0;
        _signal.Signal();
    }

    public void AcknowledgeCompletionSignal() => _signal.Drain();

    public int Reap(Span<BlockCompletion> completions)
    {
        int n = 0;
        while (n < completions.Length && _count > 0)
        {
            completions[n++] = _completions[_head];
            _head = (_head + 1) % Capacity;
            _count--;
        }
        return n;
    }

    private bool Complete(ulong userData, int result)
    {
        _completions[(_head + _count) % Capacity] = new BlockCompletion(userData, result);
        _count++;
        _unsignalled++;
        return true;
    }

    // SAFETY: iov.Length <= MaxSegments is checked; a bounce is used only when total <= BufferBytes, and the spans are pinned for each call
    private unsafe int Transfer(bool write, ulong offset, ReadOnlySpan<IoVec> iov, int rwFlags)
    {
        if (iov.Length == 0 || iov.Length > _maxSegments || offset > long.MaxValue) return -Libc.EINVAL;
        if (_file.Direct)
        {
            ulong total = DirectIo.TotalLength(iov);
            if (!DirectIo.RangeAligned(offset, total, _file.OffsetAlignment)) return -Libc.EINVAL;
            if (!DirectIo.BuffersAligned(iov, _file.MemoryAlignment, _file.OffsetAlignment))
            {
                if (total > (ulong)_bounce!.BufferBytes) return -Libc.EINVAL;
                byte* buffer = _bounce.Buffer(0);
                IoVec* one = _bounce.IoVecFor(0, (nuint)total);
                if (write) DirectIo.Gather(iov, buffer);
                nint moved = write ? Libc.Pwritev2(_file.Fd, one, 1, (long)offset, rwFlags) : Libc.Preadv(_file.Fd, one, 1, (long)offset);
                if (moved < 0) return -Libc.LastErrno;
                if (!write)
                {
                    fixed (IoVec* guest = iov) DirectIo.Scatter(buffer, (ulong)moved, guest, iov.Length);
                }
                return (int)moved;
            }
        }
        fixed (IoVec* v = iov)
        {
            nint moved = write ? Libc.Pwritev2(_file.Fd, v, iov.Length, (long)offset, rwFlags) : Libc.Preadv(_file.Fd, v, iov.Length, (long)offset);
            return moved < 0 ? -Libc.LastErrno : (int)moved;
        }
    }

    private int Fallocate(int mode, ulong offset, ulong length)
    {
        if (length == 0 || offset > long.MaxValue || length > long.MaxValue) return -Libc.EINVAL;
        return Libc.Fallocate(_file.Fd, mode, (long)offset, (long)length) == 0 ? 0 : -Libc.LastErrno;
    }

    public void Dispose()
    {
        _signal.Dispose();
        _bounce?.Dispose();
    }
}
