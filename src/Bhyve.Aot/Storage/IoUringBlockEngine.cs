using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;
using Bhyve.Aot.IoUring;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The io_uring block engine: READV/WRITEV straight between the backing file and guest RAM, FSYNC and FALLOCATE
/// for the rest, one SQE and one CQE per request. The file is registered (IOSQE_FIXED_FILE) and completions
/// signal an eventfd.
///
/// Choices:
/// - FUA is WRITEV with RWF_DSYNC rather than WRITEV + linked FSYNC: one SQE and one CQE per request (so the CQ can
///   never overflow and a request never half-fails with -ECANCELED), and on an O_DIRECT block device the kernel turns
///   it into a REQ_FUA write instead of a whole-cache flush.
/// - Short reads/writes are reported as they are (Result = bytes moved), not resubmitted: the kernel already loops
///   over buffered regular-file I/O, so a short result means EOF or an error the retry would hit again; the device
///   maps any short transfer to an I/O error status.
/// - No overflow: Capacity (QueueDepth) ≤ SQ entries and the CQ is twice the SQ, and each request owns one SQE and
///   one CQE until reaped, so the CQ cannot fill; TryX returns false when Capacity requests are in flight.
/// - Flush errors latch on the BlockFile (see there): a latched backend fails FLUSH and FUA writes before they
///   reach the kernel, and a flush that succeeds after another one failed reports the failure too.
/// - WRITE ZEROES that the file system cannot do in place (EOPNOTSUPP) goes on in the same slot: punch → zero-range
///   → WRITEV chunks from the shared zero pages, never a hole unless the guest allowed unmapping.
/// </summary>
public sealed class IoUringBlockEngine : IBlockEngine
{
    private enum Kind : byte { Read, Write, Flush, Discard, WriteZeroes, ZeroWrite, Rejected }

    private struct Slot
    {
        public ulong UserData;
        public ulong Offset, Length;
        public int Mode;
        public int Segments;
        public int Bounce;
        public int RejectedResult;
        public Kind Kind;
        public bool Fua;
    }

    private const int FixedFileIndex = 0;
    private const int ReapChunk = 32;

    private readonly BlockFile _file;
    private readonly IoUringRing _ring;
    private readonly EventFd _signal;
    private readonly Slot[] _slots;
    private readonly int[] _free;
    private int _freeCount;
    // SAFETY: Capacity * MaxSegments IoVecs in native memory, owned by the engine until Dispose; slot s uses [s * MaxSegments, (s + 1) * MaxSegments)
    private unsafe IoVec* _iovecs;
    private readonly int _maxSegments;
    private readonly BounceBufferPool? _bounce;

    /// <summary>
    /// What the ring is restricted to (IORING_REGISTER_RESTRICTIONS): NOP (rejected requests), READV, WRITEV, FSYNC and
    /// FALLOCATE, each with IOSQE_FIXED_FILE (so only the registered backing file), and no register operation.
    /// A hijacked VMM cannot turn the ring into openat/connect/splice on other files; on kernels before 5.10 the
    /// ring runs unrestricted (Restricted is false, `check` is unaffected).
    /// </summary>
    internal static ReadOnlySpan<IoUringOp> RingOpcodes => [IoUringOp.Nop, IoUringOp.Readv, IoUringOp.Writev, IoUringOp.Fsync, IoUringOp.Fallocate];

    public IoUringBlockEngine(BlockFile file, BlockEngineOptions options) : this(file, options, 0) { }

    /// <param name="simulateUnsupportedSetup">IORING_SETUP_* flags to treat as unknown (tests of the fallback).</param>
    // SAFETY: the iovec table is allocated for Capacity * MaxSegments entries, matching every later index
    internal unsafe IoUringBlockEngine(BlockFile file, BlockEngineOptions options, uint simulateUnsupportedSetup)
    {
        if (options.QueueDepth <= 0 || options.MaxSegments <= 0) throw new ArgumentOutOfRangeException(nameof(options));
        _file = file;
        _ring = new IoUringRing((uint)options.QueueDepth, 2 * (uint)options.QueueDepth, startDisabled: true, simulateUnsupportedSetup);
        try
        {
            if (_ring.SqEntries < options.QueueDepth) throw new IoUringException($"setup ({options.QueueDepth} entries clamped to {_ring.SqEntries})", Libc.EINVAL);
            foreach (var (op, name, needed) in BlockEngineRequirements.Opcodes)
            {
                if (needed && !_ring.Supports(op)) throw new IoUringException($"opcode {name}", Libc.ENOSYS);
            }
            _signal = new EventFd();
            _ring.RegisterFiles([file.Fd]);
            _ring.RegisterEventFd(_signal.Fd);
            // Before the ring runs: only our opcodes, only on the registered file, no further registration.
            _ring.Restrict(RingOpcodes, IoUringAbi.SqeFixedFile, IoUringAbi.SqeFixedFile);
            _ring.Enable();
        }
        catch
        {
            _signal?.Dispose();
            _ring.Dispose();
            throw;
        }

        Capacity = options.QueueDepth;
        _maxSegments = options.MaxSegments;
        _slots = new Slot[Capacity];
        _free = new int[Capacity];
        for (int i = Capacity - 1; i >= 0; i--) _free[_freeCount++] = i;
        _iovecs = (IoVec*)NativeMemory.AllocZeroed((nuint)Capacity * (nuint)_maxSegments, (nuint)sizeof(IoVec));
        if (file.Direct) _bounce = new BounceBufferPool(options.BounceBuffers, options.BounceBufferBytes, file.MemoryAlignment);
    }

    public string Name => BlockEngineRequirements.IoUringEngine;
    public int CompletionEventFd => _signal.Fd;
    public int Capacity { get; }
    public int InFlight => Capacity - _freeCount;

    /// <summary>The ring underneath (tests check it never drops a CQE).</summary>
    internal IoUringRing Ring => _ring;

    /// <summary>The ring is restricted to RingOpcodes on the registered file.</summary>
    public bool Restricted => _ring.Restricted;

    public bool TryRead(ulong offset, ReadOnlySpan<IoVec> iov, ulong userData) =>
        TryReadWrite(Kind.Read, offset, iov, 0, userData);

    public bool TryWrite(ulong offset, ReadOnlySpan<IoVec> iov, bool fua, ulong userData) =>
        TryReadWrite(Kind.Write, offset, iov, fua ? BlockAbi.RwfDsync : 0, userData);

    // SAFETY: the SQE comes from TryBegin, a live slot of the ring's SQE array
    public unsafe bool TryFlush(ulong userData)
    {
        if (!TryBegin(Kind.Flush, userData, out int slot, out IoUringSqe* sqe)) return false;
        int latched = _file.FlushError;
        if (latched != 0) return Reject(sqe, slot, latched);
        sqe->Opcode = IoUringOp.Fsync;
        sqe->OpFlags = IoUringAbi.FsyncDataSync;
        Target(sqe, slot);
        return true;
    }

    public bool TryDiscard(ulong offset, ulong length, ulong userData) =>
        TryFallocate(Kind.Discard, FallocateModes.Discard, offset, length, userData);

    public bool TryWriteZeroes(ulong offset, ulong length, bool mayUnmap, ulong userData) =>
        TryFallocate(Kind.WriteZeroes, FallocateModes.ForWriteZeroes(mayUnmap), offset, length, userData);

    public void Submit() => _ring.Submit();

    public void AcknowledgeCompletionSignal() => _signal.Drain();

    public int Reap(Span<BlockCompletion> completions)
    {
        Span<IoUringCqe> cqes = stackalloc IoUringCqe[ReapChunk];
        int produced = 0;
        bool resubmit = false;
        while (produced < completions.Length)
        {
            int n = _ring.Reap(cqes[..Math.Min(ReapChunk, completions.Length - produced)]);
            if (n == 0) break;
            for (int i = 0; i < n; i++)
            {
                int slot = (int)cqes[i].UserData;
                if (Finish(slot, cqes[i].Res, out int result, ref resubmit))
                {
                    completions[produced++] = new BlockCompletion(_slots[slot].UserData, result);
                    Release(slot);
                }
            }
        }
        // A WRITE ZEROES fallback, or SQEs the kernel pushed back earlier, go out now rather than wait for the caller.
        if (resubmit || _ring.Unsubmitted != 0) _ring.Submit();
        return produced;
    }

    // SAFETY: slot < Capacity and iov.Length <= MaxSegments (checked) keep the copy inside the slot's iovecs; a bounce is used only when total <= BufferBytes
    private unsafe bool TryReadWrite(Kind kind, ulong offset, ReadOnlySpan<IoVec> iov, int rwFlags, ulong userData)
    {
        if (!TryBegin(kind, userData, out int slot, out IoUringSqe* sqe)) return false;
        ref Slot s = ref _slots[slot];
        if (iov.Length == 0 || iov.Length > _maxSegments) return Reject(sqe, slot, -Libc.EINVAL);
        if ((rwFlags & BlockAbi.RwfDsync) != 0)
        {
            int latched = _file.FlushError;
            if (latched != 0) return Reject(sqe, slot, latched);
            s.Fua = true;
        }

        IoVec* stored = _iovecs + (nint)slot * _maxSegments;
        iov.CopyTo(new Span<IoVec>(stored, iov.Length));
        s.Segments = iov.Length;
        IoVec* target = stored;
        int segments = iov.Length;

        if (_file.Direct)
        {
            ulong total = DirectIo.TotalLength(iov);
            if (!DirectIo.RangeAligned(offset, total, _file.OffsetAlignment)) return Reject(sqe, slot, -Libc.EINVAL);
            if (!DirectIo.BuffersAligned(iov, _file.MemoryAlignment, _file.OffsetAlignment))
            {
                // No bounce buffers at all, or too small ones: waiting would never help.
                if (_bounce!.Count == 0 || total > (ulong)_bounce.BufferBytes) return Reject(sqe, slot, -Libc.EINVAL);
                int bounce = _bounce.TryRent();
                if (bounce < 0)
                {
                    Unwind(sqe, slot);
                    return false;
                }
                s.Bounce = bounce;
                if (kind == Kind.Write) DirectIo.Gather(iov, _bounce.Buffer(bounce));
                target = _bounce.IoVecFor(bounce, (nuint)total);
                segments = 1;
            }
        }

        sqe->Opcode = kind == Kind.Read ? IoUringOp.Readv : IoUringOp.Writev;
        sqe->Off = offset;
        sqe->Addr = (ulong)target;
        sqe->Len = (uint)segments;
        sqe->OpFlags = (uint)rwFlags;
        Target(sqe, slot);
        return true;
    }

    // SAFETY: the SQE comes from TryBegin, a live slot of the ring's SQE array
    private unsafe bool TryFallocate(Kind kind, int mode, ulong offset, ulong length, ulong userData)
    {
        if (!TryBegin(kind, userData, out int slot, out IoUringSqe* sqe)) return false;
        if (length == 0 || offset > long.MaxValue || length > long.MaxValue) return Reject(sqe, slot, -Libc.EINVAL);
        ref Slot s = ref _slots[slot];
        s.Offset = offset;
        s.Length = length;
        PrepareFallocate(sqe, slot, mode);
        return true;
    }

    // SAFETY: sqe is a live SQE from the ring (TryBegin or TryGetSqe, non-null)
    private unsafe void PrepareFallocate(IoUringSqe* sqe, int slot, int mode)
    {
        ref Slot s = ref _slots[slot];
        s.Mode = mode;
        // IORING_OP_FALLOCATE: off = offset, addr = length, len = mode (as liburing's io_uring_prep_fallocate).
        sqe->Opcode = IoUringOp.Fallocate;
        sqe->Off = s.Offset;
        sqe->Addr = s.Length;
        sqe->Len = (uint)mode;
        Target(sqe, slot);
    }

    /// <summary>Takes a free slot and an SQE, or neither.</summary>
    // SAFETY: the SQE pointer is the ring's (null when full, checked); the out parameter is only written
    private unsafe bool TryBegin(Kind kind, ulong userData, out int slot, out IoUringSqe* sqe)
    {
        slot = -1;
        sqe = null;
        if (_freeCount == 0) return false;
        sqe = _ring.TryGetSqe();
        if (sqe == null) return false;
        slot = _free[--_freeCount];
        _slots[slot] = new Slot { UserData = userData, Kind = kind, Bounce = -1 };
        return true;
    }

    /// <summary>A request refused before the kernel sees it still completes through the ring, as a NOP.</summary>
    // SAFETY: sqe is the live SQE TryBegin just handed out
    private unsafe bool Reject(IoUringSqe* sqe, int slot, int result)
    {
        _slots[slot].Kind = Kind.Rejected;
        _slots[slot].RejectedResult = result;
        Nop(sqe, (ulong)slot);
        return true;
    }

    /// <summary>Gives back a slot taken by TryBegin and turns its SQE into a NOP that completes unseen.</summary>
    // SAFETY: sqe is the live SQE TryBegin just handed out
    private unsafe void Unwind(IoUringSqe* sqe, int slot)
    {
        // The SQE is already in the ring; it must be submitted, so it becomes a NOP on a slot id no one owns.
        Nop(sqe, ulong.MaxValue);
        Release(slot);
    }

    /// <summary>A NOP carries IOSQE_FIXED_FILE too: the restricted ring requires it on every SQE (NOP ignores it).</summary>
    // SAFETY: sqe is a live SQE the caller just obtained from the ring
    private static unsafe void Nop(IoUringSqe* sqe, ulong userData)
    {
        *sqe = default;
        sqe->Opcode = IoUringOp.Nop;
        sqe->Fd = FixedFileIndex;
        sqe->Flags = IoUringAbi.SqeFixedFile;
        sqe->UserData = userData;
    }

    // SAFETY: sqe is a live SQE the caller just obtained from the ring
    private static unsafe void Target(IoUringSqe* sqe, int slot)
    {
        sqe->Fd = FixedFileIndex;
        sqe->Flags |= IoUringAbi.SqeFixedFile;
        sqe->UserData = (ulong)slot;
    }

    /// <summary>Turns a CQE into the request's result; false when the request goes on (a fallback was queued).</summary>
    // SAFETY: slot < Capacity is checked first; the fallback SQE is null-checked; Scatter gets the slot's own iovecs and res <= the request's length
    private unsafe bool Finish(int slot, int res, out int result, ref bool resubmit)
    {
        result = res;
        if ((uint)slot >= (uint)_slots.Length) return false; // an unwound NOP
        ref Slot s = ref _slots[slot];
        switch (s.Kind)
        {
            case Kind.Rejected:
                result = s.RejectedResult;
                break;
            case Kind.Flush:
                _file.LatchFlushError(res);
                result = FlushLatch.Result(_file, res);
                break;
            case Kind.WriteZeroes when res == -BlockAbi.EOPNOTSUPP:
                int fallback = FallocateModes.WriteZeroesFallback(s.Mode, _file.IsBlockDevice);
                if (fallback == 0) break;
                if (fallback == FallocateModes.WriteZeroBytes)
                {
                    if (_file.Direct && !DirectIo.RangeAligned(s.Offset, s.Length, _file.OffsetAlignment)) { result = -Libc.EINVAL; break; }
                    s.Kind = Kind.ZeroWrite;
                    return ContinueOrFail(slot, &PrepareZeroWrite, ref result, ref resubmit);
                }
                s.Mode = fallback;
                return ContinueOrFail(slot, &PrepareFallocateAgain, ref result, ref resubmit);
            case Kind.ZeroWrite:
                if (res <= 0)
                {
                    result = res < 0 ? res : -BlockAbi.EIO;
                    break;
                }
                s.Offset += (ulong)res;
                s.Length -= Math.Min(s.Length, (ulong)res);
                if (s.Length == 0)
                {
                    result = 0;
                    break;
                }
                return ContinueOrFail(slot, &PrepareZeroWrite, ref result, ref resubmit);
            case Kind.Read or Kind.Write:
                if (s.Fua && FlushLatch.FuaLosesData(res)) _file.LatchFlushError(res);
                if (s.Bounce < 0) break;
                if (s.Kind == Kind.Read && res > 0) DirectIo.Scatter(_bounce!.Buffer(s.Bounce), (ulong)res, _iovecs + (nint)slot * _maxSegments, s.Segments);
                _bounce!.Return(s.Bounce);
                s.Bounce = -1;
                break;
        }
        return true;
    }

    /// <summary>
    /// Queues the next step of a request that goes on in its slot; false (it goes on) when it was queued. There is
    /// always an SQE for it (at most Capacity-1 other requests hold one); if not, the request ends with -EAGAIN.
    /// </summary>
    // SAFETY: the SQE is null-checked; prepare is one of this class's own Prepare* functions, called with a live slot
    private unsafe bool ContinueOrFail(int slot, delegate*<IoUringBlockEngine, IoUringSqe*, int, void> prepare, ref int result, ref bool resubmit)
    {
        IoUringSqe* sqe = _ring.TryGetSqe();
        if (sqe == null)
        {
            result = -Libc.EAGAIN;
            return true;
        }
        prepare(this, sqe, slot);
        resubmit = true;
        return false;
    }

    // SAFETY: sqe is the live SQE ContinueOrFail just took from the ring
    private static unsafe void PrepareFallocateAgain(IoUringBlockEngine e, IoUringSqe* sqe, int slot) => e.PrepareFallocate(sqe, slot, e._slots[slot].Mode);

    /// <summary>WRITEV of the next chunk of zeroes at the slot's remaining range (Offset, Length).</summary>
    // SAFETY: sqe is the live SQE ContinueOrFail just took; the trimmed tail entry goes into the slot's own MaxSegments iovecs (at least one)
    private static unsafe void PrepareZeroWrite(IoUringBlockEngine e, IoUringSqe* sqe, int slot)
    {
        ref Slot s = ref e._slots[slot];
        // The slot's own iovec area holds the trimmed last entry of a partial chunk (ZeroPages never writes its array).
        IoVec* iov = ZeroPages.For(s.Length, e._iovecs + (nint)slot * e._maxSegments, out int count, out _);
        sqe->Opcode = IoUringOp.Writev;
        sqe->Off = s.Offset;
        sqe->Addr = (ulong)iov;
        sqe->Len = (uint)count;
        Target(sqe, slot);
    }

    private void Release(int slot) => _free[_freeCount++] = slot;

    // SAFETY: the ring is closed first, so the kernel no longer reads the iovecs when they are freed; freed once and nulled
    public unsafe void Dispose()
    {
        // Callers reap everything first: a request still in flight when the ring closes is cancelled by the kernel.
        _ring.Dispose();
        _signal.Dispose();
        _bounce?.Dispose();
        if (_iovecs != null) NativeMemory.Free(_iovecs);
        _iovecs = null;
    }
}
