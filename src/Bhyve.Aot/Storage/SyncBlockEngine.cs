using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The fallback when io_uring cannot be used: each request runs at once on the calling thread
/// (preadv / pwritev2 / fdatasync / fallocate), its completion is queued, and Submit signals the eventfd once per
/// batch. Same contract as the io_uring engine, including the WRITE ZEROES fallbacks, O_DIRECT bouncing and the
/// backend's flush-error latch; FUA is pwritev2(RWF_DSYNC). Short transfers are reported as they are.
/// EINTR (a signal landed in the syscall) is retried at once; EAGAIN up to EagainRetries times, then reported.
/// </summary>
public sealed class SyncBlockEngine : IBlockEngine
{
    /// <summary>EAGAIN without RWF_NOWAIT is rare and transient (a busy device or lock); a bound keeps a stuck one from hanging the queue.</summary>
    internal const int EagainRetries = 64;

    private readonly BlockFile _file;
    private readonly BlockSyscalls _sys;
    private readonly EventFd _signal;
    private readonly BlockCompletion[] _completions;
    private readonly BounceBufferPool? _bounce;
    private readonly int _maxSegments;
    private int _head, _count, _unsignalled;

    public SyncBlockEngine(BlockFile file, BlockEngineOptions options) : this(file, options, BlockSyscalls.Host) { }

    internal SyncBlockEngine(BlockFile file, BlockEngineOptions options, BlockSyscalls syscalls)
    {
        if (options.QueueDepth <= 0 || options.MaxSegments <= 0) throw new ArgumentOutOfRangeException(nameof(options));
        _file = file;
        _sys = syscalls;
        Capacity = options.QueueDepth;
        _maxSegments = options.MaxSegments;
        _completions = new BlockCompletion[Capacity];
        _signal = new EventFd();
        // One request at a time is ever in the kernel, so one bounce buffer is enough.
        if (file.Direct) _bounce = new BounceBufferPool(1, options.BounceBufferBytes, file.MemoryAlignment);
    }

    public string Name => BlockEngineRequirements.SynchronousEngine;
    public int CompletionEventFd => _signal.Fd;
    public int Capacity { get; }
    public int InFlight => _count;

    public bool TryRead(ulong offset, ReadOnlySpan<IoVec> iov, ulong userData) =>
        _count < Capacity && Complete(userData, Transfer(false, offset, iov, 0));

    public bool TryWrite(ulong offset, ReadOnlySpan<IoVec> iov, bool fua, ulong userData)
    {
        if (_count >= Capacity) return false;
        if (!fua) return Complete(userData, Transfer(true, offset, iov, 0));
        int latched = _file.FlushError;
        if (latched != 0) return Complete(userData, latched);
        int result = Transfer(true, offset, iov, BlockAbi.RwfDsync);
        if (FlushLatch.FuaLosesData(result)) _file.LatchFlushError(result);
        return Complete(userData, result);
    }

    public bool TryFlush(ulong userData)
    {
        if (_count >= Capacity) return false;
        int latched = _file.FlushError;
        if (latched != 0) return Complete(userData, latched);
        int result, again = 0;
        do result = _sys.Fdatasync(_file.Fd);
        while (ShouldRetry(result, ref again));
        _file.LatchFlushError(result);
        return Complete(userData, FlushLatch.Result(_file, result));
    }

    public bool TryDiscard(ulong offset, ulong length, ulong userData) =>
        _count < Capacity && Complete(userData, Fallocate(FallocateModes.Discard, offset, length));

    public bool TryWriteZeroes(ulong offset, ulong length, bool mayUnmap, ulong userData)
    {
        if (_count >= Capacity) return false;
        int mode = FallocateModes.ForWriteZeroes(mayUnmap);
        int result = Fallocate(mode, offset, length);
        while (result == -BlockAbi.EOPNOTSUPP)
        {
            mode = FallocateModes.WriteZeroesFallback(mode, _file.IsBlockDevice);
            if (mode == 0) break;
            result = mode == FallocateModes.WriteZeroBytes ? WriteZeroBytes(offset, length) : Fallocate(mode, offset, length);
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
                nint moved = Move(write, one, 1, (long)offset, rwFlags);
                if (moved < 0) return (int)moved;
                if (!write)
                {
                    fixed (IoVec* guest = iov) DirectIo.Scatter(buffer, (ulong)moved, guest, iov.Length);
                }
                return (int)moved;
            }
        }
        fixed (IoVec* v = iov) return (int)Move(write, v, iov.Length, (long)offset, rwFlags);
    }

    /// <summary>One preadv/pwritev2, retried on EINTR and (boundedly) EAGAIN; bytes moved or -errno.</summary>
    // SAFETY: iov and count come from the callers' pinned or checked arrays (at most MaxSegments entries, or ZeroPages)
    private unsafe nint Move(bool write, IoVec* iov, int count, long offset, int rwFlags)
    {
        int again = 0;
        while (true)
        {
            nint r = write ? _sys.Pwritev2(_file.Fd, iov, count, offset, rwFlags) : _sys.Preadv(_file.Fd, iov, count, offset);
            if (!ShouldRetry(r, ref again)) return r;
        }
    }

    /// <summary>EINTR always goes again; EAGAIN up to EagainRetries times, then it is the answer.</summary>
    private static bool ShouldRetry(nint result, ref int again)
    {
        if (result == -Libc.EINTR) return true;
        return result == -Libc.EAGAIN && ++again <= EagainRetries;
    }

    /// <summary>WRITE ZEROES by writing: [offset, offset+length) in chunks from the shared zero pages.</summary>
    // SAFETY: ZeroPages.For returns its own process-lifetime array or our stack tail entry, with the count that matches
    private unsafe int WriteZeroBytes(ulong offset, ulong length)
    {
        if (length == 0 || offset > long.MaxValue || length > long.MaxValue - offset) return -Libc.EINVAL;
        if (_file.Direct && !DirectIo.RangeAligned(offset, length, _file.OffsetAlignment)) return -Libc.EINVAL;
        IoVec tail;
        while (length > 0)
        {
            IoVec* iov = ZeroPages.For(length, &tail, out int count, out ulong bytes);
            nint moved = Move(true, iov, count, (long)offset, 0);
            if (moved < 0) return (int)moved;
            if (moved == 0) return -BlockAbi.EIO;
            offset += (ulong)moved;
            length -= (ulong)moved;
        }
        return 0;
    }

    private int Fallocate(int mode, ulong offset, ulong length)
    {
        if (length == 0 || offset > long.MaxValue || length > long.MaxValue) return -Libc.EINVAL;
        int again = 0;
        while (true)
        {
            int r = _sys.Fallocate(_file.Fd, mode, (long)offset, (long)length);
            if (!ShouldRetry(r, ref again)) return r;
        }
    }

    public void Dispose()
    {
        _signal.Dispose();
        _bounce?.Dispose();
    }
}
