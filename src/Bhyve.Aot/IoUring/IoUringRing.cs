using System.Runtime.CompilerServices;
using Bhyve.Aot.Interop;

namespace Bhyve.Aot.IoUring;

/// <summary>
/// One io_uring over raw syscalls (io_uring_setup/enter/register), owned by exactly one thread.
///
/// Memory ordering with the kernel (the rings are shared memory; the kernel uses smp_load_acquire/smp_store_release):
/// - SQ: we fill SQEs with plain stores, then publish the SQ tail with Volatile.Write (release), so the kernel
///   never sees a tail that covers an SQE it cannot yet read. The SQ head is the kernel's; we read it with
///   Volatile.Read (acquire) before reusing the slots it has consumed.
/// - CQ: we read the CQ tail with Volatile.Read (acquire), so the CQE contents read after it are the kernel's
///   finished writes; we copy them out, then publish the CQ head with Volatile.Write (release), so the kernel
///   reuses a CQE slot only after we have read it.
///
/// Nothing on the submit/reap path allocates. Full queues are answers, not exceptions: TryGetSqe returns null
/// when the SQ is full, and Submit returns 0 when the kernel pushes back (EAGAIN/EBUSY); the caller reaps and retries.
/// </summary>
public sealed class IoUringRing : IDisposable
{
    private int _fd;
    private nint _sqRingPtr, _cqRingPtr, _sqesPtr;
    private nuint _sqRingBytes, _cqRingBytes, _sqesBytes;

    // SAFETY: pointers into the SQ ring mapping, set once from the kernel's offsets (sq_off) inside the mapped size; valid until Dispose
    private readonly unsafe uint* _sqHead, _sqTail, _sqFlags, _sqArray;
    private readonly uint _sqMask;
    // SAFETY: the SQE array mapping of SqEntries entries; valid until Dispose
    private readonly unsafe IoUringSqe* _sqes;
    // SAFETY: pointers into the CQ ring mapping, set once from the kernel's offsets (cq_off) inside the mapped size; valid until Dispose
    private readonly unsafe uint* _cqHead, _cqTail, _cqOverflow;
    private readonly uint _cqMask;
    // SAFETY: the CQE array inside the CQ ring mapping (CqEntries entries, indexed with the kernel's ring mask); valid until Dispose
    private readonly unsafe IoUringCqe* _cqes;

    /// <summary>Our SQ tail: SQEs handed out by TryGetSqe; published to the kernel by Submit.</summary>
    private uint _sqeTail;

    /// <summary>Creates a ring of sqEntries submission slots (a power of two after the kernel rounds it) and
    /// cqEntries completion slots (0: the kernel's default of twice the SQ).</summary>
    public IoUringRing(uint sqEntries, uint cqEntries = 0) : this(sqEntries, cqEntries, startDisabled: false, 0) { }

    /// <summary>
    /// As above; startDisabled asks for IORING_SETUP_R_DISABLED (Restrict, then Enable). A kernel older than 5.10
    /// rejects the flag with EINVAL: the ring is then created enabled and StartedDisabled is false.
    /// simulateUnsupported: setup flags to treat as unknown to the kernel (tests of the fallback on a new kernel).
    /// </summary>
    // SAFETY: the mapped sizes are computed from the kernel's own offsets and entry counts, and every pointer is derived inside them; SQ array slots are written for i < SqEntries only
    internal unsafe IoUringRing(uint sqEntries, uint cqEntries, bool startDisabled, uint simulateUnsupported)
    {
        var p = new IoUringParams { Flags = IoUringAbi.SetupClamp };
        if (cqEntries != 0)
        {
            p.Flags |= IoUringAbi.SetupCqSize;
            p.CqEntries = cqEntries;
        }
        long fd = -1;
        int errno;
        if (startDisabled)
        {
            var disabled = p;
            disabled.Flags |= IoUringAbi.SetupRDisabled;
            fd = Setup(sqEntries, &disabled, simulateUnsupported, out errno);
            if (fd >= 0)
            {
                p = disabled;
                StartedDisabled = true;
            }
            else if (errno != Libc.EINVAL) throw new IoUringException("setup", errno);
        }
        if (fd < 0) fd = Setup(sqEntries, &p, simulateUnsupported, out errno);
        else errno = 0;
        if (fd < 0) throw new IoUringException("setup", errno);
        _fd = (int)fd;
        try
        {
            Features = p.Features;
            SqEntries = p.SqEntries;
            CqEntries = p.CqEntries;

            _sqRingBytes = p.SqOff.Array + p.SqEntries * sizeof(uint);
            _cqRingBytes = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(IoUringCqe);
            // SINGLE_MMAP (5.4): one mapping holds both rings; it must cover the larger of the two.
            if ((Features & IoUringAbi.FeatSingleMmap) != 0)
                _sqRingBytes = _cqRingBytes = Math.Max(_sqRingBytes, _cqRingBytes);
            _sqRingPtr = MapRegion(_sqRingBytes, IoUringAbi.OffSqRing, "mmap SQ ring");
            _cqRingPtr = (Features & IoUringAbi.FeatSingleMmap) != 0
                ? _sqRingPtr
                : MapRegion(_cqRingBytes, IoUringAbi.OffCqRing, "mmap CQ ring");
            _sqesBytes = p.SqEntries * (uint)sizeof(IoUringSqe);
            _sqesPtr = MapRegion(_sqesBytes, IoUringAbi.OffSqes, "mmap SQE array");
        }
        catch
        {
            Dispose();
            throw;
        }

        byte* sq = (byte*)_sqRingPtr, cq = (byte*)_cqRingPtr;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqFlags = (uint*)(sq + p.SqOff.Flags);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _sqArray = (uint*)(sq + p.SqOff.Array);
        _sqes = (IoUringSqe*)_sqesPtr;
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqOverflow = (uint*)(cq + p.CqOff.Overflow);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (IoUringCqe*)(cq + p.CqOff.Cqes);

        // SQ array slot i always names SQE i: SQEs are used in ring order, so the indirection is set up once.
        for (uint i = 0; i < SqEntries; i++) _sqArray[i] = i;
        _sqeTail = *_sqTail;
    }

    /// <summary>io_uring_setup; flags in simulateUnsupported answer EINVAL as an old kernel would.</summary>
    // SAFETY: p is the caller's IoUringParams on its stack, which io_uring_setup reads and fills
    private static unsafe long Setup(uint entries, IoUringParams* p, uint simulateUnsupported, out int errno)
    {
        errno = 0;
        if ((p->Flags & simulateUnsupported) != 0)
        {
            errno = Libc.EINVAL;
            return -1;
        }
        long fd = Libc.Syscall(IoUringAbi.SysSetup, entries, (long)p, 0, 0, 0, 0);
        if (fd < 0) errno = Libc.LastErrno;
        return fd;
    }

    public int Fd => _fd;

    /// <summary>Created with IORING_SETUP_R_DISABLED: nothing runs until Enable.</summary>
    public bool StartedDisabled { get; }

    /// <summary>Restrict succeeded: the kernel refuses (-EACCES) any SQE opcode, SQE flag or register op not allowed.</summary>
    public bool Restricted { get; private set; }

    public uint SqEntries { get; }
    public uint CqEntries { get; }

    /// <summary>IORING_FEAT_* bits the kernel returned from setup.</summary>
    public uint Features { get; }

    /// <summary>NODROP (5.5): CQEs that do not fit are parked by the kernel, never lost.</summary>
    public bool NoDrop => (Features & IoUringAbi.FeatNoDrop) != 0;

    /// <summary>SQEs not yet consumed by the kernel: prepared here and not submitted, or pushed back by it.</summary>
    // SAFETY: the ring's shared pages are mapped from the constructor until Dispose, at the offsets the kernel gave in io_uring_params
    public unsafe uint Unsubmitted => _sqeTail - Volatile.Read(ref *_sqHead);

    /// <summary>SQ slots free for TryGetSqe.</summary>
    public uint SqSpace => SqEntries - Unsubmitted;

    /// <summary>CQEs ready to reap (not counting any the kernel parked on its overflow list).</summary>
    // SAFETY: the ring's shared pages are mapped from the constructor until Dispose, at the offsets the kernel gave in io_uring_params
    public unsafe uint CqReady => Volatile.Read(ref *_cqTail) - *_cqHead;

    /// <summary>CQEs dropped because the CQ was full on a kernel without NODROP (must stay 0).</summary>
    // SAFETY: the ring's shared pages are mapped from the constructor until Dispose, at the offsets the kernel gave in io_uring_params
    public unsafe uint CqDropped => Volatile.Read(ref *_cqOverflow);

    /// <summary>The next free SQE, zeroed, or null when the SQ is full (reap, submit, retry).</summary>
    // SAFETY: the index is masked with the kernel's SQ ring mask, and a slot is handed out only when fewer than SqEntries are unconsumed
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe IoUringSqe* TryGetSqe()
    {
        // Acquire: the kernel has finished reading every SQE below its head.
        if (_sqeTail - Volatile.Read(ref *_sqHead) >= SqEntries) return null;
        IoUringSqe* sqe = _sqes + (_sqeTail & _sqMask);
        *sqe = default;
        _sqeTail++;
        return sqe;
    }

    /// <summary>
    /// Publishes every prepared SQE with one io_uring_enter and optionally waits for waitFor completions.
    /// Returns how many SQEs the kernel consumed; 0 when it pushed back (EAGAIN/EBUSY) — they stay queued and go
    /// with the next Submit. Other failures mean a broken ring and throw.
    /// </summary>
    // SAFETY: the ring's shared pages are mapped from the constructor until Dispose, at the offsets the kernel gave in io_uring_params
    public unsafe int Submit(uint waitFor = 0)
    {
        // Release: every SQE store above happens-before the kernel observes the new tail.
        Volatile.Write(ref *_sqTail, _sqeTail);
        uint toSubmit = _sqeTail - Volatile.Read(ref *_sqHead);
        if (toSubmit == 0 && waitFor == 0) return 0;
        uint flags = waitFor != 0 ? IoUringAbi.EnterGetEvents : 0;
        while (true)
        {
            long r = Libc.Syscall(IoUringAbi.SysEnter, _fd, toSubmit, waitFor, flags, 0, 0);
            if (r >= 0) return (int)r;
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR) continue;
            if (errno == Libc.EAGAIN || errno == BlockAbi.EBUSY) return 0;
            throw new IoUringException("enter", errno);
        }
    }

    /// <summary>
    /// Copies up to into.Length CQEs out of the CQ and frees their slots; never blocks. When the CQ is empty but the
    /// kernel has parked overflow CQEs (NODROP), one io_uring_enter(GETEVENTS) moves them into the CQ first.
    /// </summary>
    // SAFETY: CQEs are read only between our head and the kernel's tail, indexed with the kernel's CQ ring mask
    public unsafe int Reap(Span<IoUringCqe> into)
    {
        uint head = *_cqHead; // only we write the CQ head
        uint tail = Volatile.Read(ref *_cqTail); // acquire: CQE contents below tail are complete
        if (head == tail)
        {
            if ((Volatile.Read(ref *_sqFlags) & IoUringAbi.SqCqOverflow) == 0) return 0;
            FlushOverflow();
            tail = Volatile.Read(ref *_cqTail);
        }
        int n = 0;
        while (head != tail && n < into.Length)
        {
            into[n++] = _cqes[head & _cqMask];
            head++;
        }
        // Release: our reads of those CQEs happen-before the kernel may overwrite the slots.
        Volatile.Write(ref *_cqHead, head);
        return n;
    }

    /// <summary>Blocks until at least one CQE is ready (tests and benchmarks; the VMM waits on the eventfd instead).</summary>
    public void WaitForCompletion()
    {
        if (CqReady != 0) return;
        Submit(1);
    }

    /// <summary>IORING_REGISTER_FILES: SQEs with IOSQE_FIXED_FILE then name a file by its index in fds, which
    /// saves the per-request fget/fput on the file table.</summary>
    // SAFETY: the span is pinned for the syscall, which reads exactly fds.Length ints
    public unsafe void RegisterFiles(ReadOnlySpan<int> fds)
    {
        fixed (int* p = fds)
        {
            if (Libc.Syscall(IoUringAbi.SysRegister, _fd, IoUringAbi.RegisterFiles, (long)p, fds.Length, 0, 0) < 0)
                throw new IoUringException("register files", Libc.LastErrno);
        }
    }

    /// <summary>IORING_REGISTER_EVENTFD: the kernel signals eventFd whenever it posts a CQE, so a thread can epoll it.</summary>
    // SAFETY: the kernel reads one int from our stack
    public unsafe void RegisterEventFd(int eventFd)
    {
        int fd = eventFd;
        if (Libc.Syscall(IoUringAbi.SysRegister, _fd, IoUringAbi.RegisterEventFd, (long)&fd, 1, 0, 0) < 0)
            throw new IoUringException("register eventfd", Libc.LastErrno);
    }

    /// <summary>
    /// IORING_REGISTER_RESTRICTIONS on a ring created disabled: from Enable on, only these SQE opcodes, SQE flags
    /// (every SQE must carry requiredFlags) and no register operation at all are accepted. Returns false, leaving the
    /// ring unrestricted, where the kernel lacks restrictions (EINVAL) or the ring did not start disabled.
    /// </summary>
    // SAFETY: the cleared stack array holds sqeOps.Length + 2 restrictions (a handful of opcodes), all written below count and passed with that count
    public unsafe bool Restrict(ReadOnlySpan<IoUringOp> sqeOps, byte allowedFlags, byte requiredFlags)
    {
        if (!StartedDisabled) return false;
        int count = sqeOps.Length + 2;
        var r = stackalloc IoUringRestriction[count];
        new Span<byte>(r, count * sizeof(IoUringRestriction)).Clear();
        for (int i = 0; i < sqeOps.Length; i++)
        {
            r[i].Opcode = IoUringAbi.RestrictionSqeOp;
            r[i].Value = (byte)sqeOps[i];
        }
        r[sqeOps.Length] = new IoUringRestriction { Opcode = IoUringAbi.RestrictionSqeFlagsAllowed, Value = allowedFlags };
        r[sqeOps.Length + 1] = new IoUringRestriction { Opcode = IoUringAbi.RestrictionSqeFlagsRequired, Value = requiredFlags };
        if (Libc.Syscall(IoUringAbi.SysRegister, _fd, IoUringAbi.RegisterRestrictions, (long)r, count, 0, 0) < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINVAL) return false;
            throw new IoUringException("register restrictions", errno);
        }
        Restricted = true;
        return true;
    }

    /// <summary>IORING_REGISTER_ENABLE_RINGS: a ring created disabled starts taking SQEs. Nothing for an enabled ring.</summary>
    public void Enable()
    {
        if (!StartedDisabled || _enabled) return;
        if (Libc.Syscall(IoUringAbi.SysRegister, _fd, IoUringAbi.RegisterEnableRings, 0, 0, 0, 0) < 0)
            throw new IoUringException("register enable rings", Libc.LastErrno);
        _enabled = true;
    }

    private bool _enabled;

    /// <summary>IORING_REGISTER_PROBE: whether this kernel implements an opcode.</summary>
    // SAFETY: the zeroed stack buffer holds the header plus ProbeOpCapacity ops, which is what we tell the kernel; ops_len <= that capacity and the index is checked against ops_len
    public unsafe bool Supports(IoUringOp op)
    {
        int bytes = sizeof(IoUringProbeHeader) + IoUringAbi.ProbeOpCapacity * sizeof(IoUringProbeOp);
        byte* buffer = stackalloc byte[bytes];
        new Span<byte>(buffer, bytes).Clear();
        if (Libc.Syscall(IoUringAbi.SysRegister, _fd, IoUringAbi.RegisterProbe, (long)buffer, IoUringAbi.ProbeOpCapacity, 0, 0) < 0)
            return false;
        var header = (IoUringProbeHeader*)buffer;
        var ops = (IoUringProbeOp*)(buffer + sizeof(IoUringProbeHeader));
        return (int)op < header->OpsLen && (ops[(int)op].Flags & IoUringAbi.OpSupported) != 0;
    }

    private void FlushOverflow()
    {
        while (Libc.Syscall(IoUringAbi.SysEnter, _fd, 0, 0, IoUringAbi.EnterGetEvents, 0, 0) < 0)
        {
            int errno = Libc.LastErrno;
            if (errno != Libc.EINTR && errno != Libc.EAGAIN && errno != BlockAbi.EBUSY)
                throw new IoUringException("enter (flush overflow)", errno);
            if (errno != Libc.EINTR) return;
        }
    }

    private nint MapRegion(nuint bytes, long offset, string what)
    {
        const int MapPopulate = 0x8000;
        nint p = Libc.Mmap(0, bytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | MapPopulate, _fd, offset);
        if (p == Libc.MAP_FAILED) throw new IoUringException(what, Libc.LastErrno);
        return p;
    }

    public void Dispose()
    {
        if (_sqesPtr != 0) Libc.Munmap(_sqesPtr, _sqesBytes);
        if (_cqRingPtr != 0 && _cqRingPtr != _sqRingPtr) Libc.Munmap(_cqRingPtr, _cqRingBytes);
        if (_sqRingPtr != 0) Libc.Munmap(_sqRingPtr, _sqRingBytes);
        _sqesPtr = _cqRingPtr = _sqRingPtr = 0;
        if (_fd >= 0) Libc.Close(_fd);
        _fd = -1;
    }
}
