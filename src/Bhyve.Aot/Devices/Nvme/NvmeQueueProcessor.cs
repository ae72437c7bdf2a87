using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Devices.Runtime;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// The DeviceWorker that owns every queue of one enabled controller (admin and I/O): it wakes on a doorbell (MMIO kick,
/// ioeventfd for shadow doorbells) or a backend completion, fetches commands, runs admin commands inline, hands
/// I/O to the block engine straight over guest RAM, posts completions with the phase tag and raises each CQ's
/// MSI-X vector. Queues, slots and the engine are touched by this thread only, so the path takes no lock and,
/// once queues exist, allocates nothing. The controller creates one per enable and stops it on reset.
/// A failure the worker's boundary catches sets CSTS.CFS; the guest then has to reset the controller.
/// Tests drive Service() on their own thread instead of starting it.
/// </summary>
internal sealed partial class NvmeQueueProcessor : DeviceWorker
{
    private const int KickToken = 0, ShadowToken = 1, CompletionToken = 2;
    public const int MaxSegments = (1 << NvmeIdentity.DefaultMdts) + 1;
    private const ulong ShutdownFlushTag = ulong.MaxValue;

    private readonly NvmeController _owner;
    private readonly GuestMemory _memory;
    private readonly NvmeNamespace _ns;
    private readonly NvmeIdentity _identity;
    private readonly IBlockEngine _engine;
    private readonly MsiX _msix;
    private readonly NvmeDoorbellValues _doorbells;
    private readonly EventFd _kick, _ioeventfd;
    private readonly SubmissionQueue?[] _sqs;
    private readonly CompletionQueue?[] _cqs;
    private readonly int _maxIoQueues, _maxEntries;
    private readonly bool _sqEntry64, _cqEntry16;
    private readonly IoVec[] _iov = new IoVec[MaxSegments];
    private readonly BlockCompletion[] _completions = new BlockCompletion[64];
    private readonly byte[] _page = new byte[NvmeIdentify.Length];
    private readonly NvmeFeatures _features;
    private ShadowDoorbells? _shadow;
    private NvmeHealthCounters _health;
    private bool _ioQueuesCreated;
    private int _parkedAers;
    private volatile bool _shutdownRequested;
    private bool _flushIssued, _shutdownDone;
    public NvmeCounters Counters;

    // SAFETY: hands the admin rings (translated by NvmeController.Enable for their sizes) to the queue objects.
    public unsafe NvmeQueueProcessor(NvmeController owner, GuestMemory memory, NvmeNamespace ns, NvmeIdentity identity, IBlockEngine engine,
                              MsiX msix, NvmeDoorbellValues doorbells, EventFd kick, EventFd ioeventfd, int maxIoQueues, int maxEntries,
                              AdminQueues admin, uint cc)
        : base("nvme", engine)
    {
        _owner = owner;
        _memory = memory;
        _ns = ns;
        _identity = identity;
        _engine = engine;
        _msix = msix;
        _doorbells = doorbells;
        _kick = kick;
        _ioeventfd = ioeventfd;
        _maxIoQueues = maxIoQueues;
        _maxEntries = maxEntries;
        _sqEntry64 = NvmeRegisters.CcIosqes(cc) == 6;
        _cqEntry16 = NvmeRegisters.CcIocqes(cc) == 4;
        _features = new NvmeFeatures(maxIoQueues, msix.VectorCount);
        _sqs = new SubmissionQueue?[maxIoQueues + 1];
        _cqs = new CompletionQueue?[maxIoQueues + 1];
        _cqs[0] = new CompletionQueue(0, admin.CqEntries, admin.Cq, vector: 0, interruptsEnabled: true) { SqReferences = 1 };
        _sqs[0] = new SubmissionQueue(0, admin.SqEntries, admin.Sq, cqId: 0);
        Loop.Add(kick.Fd, KickToken);
        Loop.Add(ioeventfd.Fd, ShadowToken);
        Loop.Add(engine.CompletionEventFd, CompletionToken);
    }

    /// <summary>The admin queues as validated at enable: host pointers to the two rings and their sizes.</summary>
    internal readonly struct AdminQueues
    {
        // SAFETY: set only by the constructor below from NvmeController.Enable's TryTranslate of each whole ring.
        public readonly unsafe byte* Sq, Cq;
        public readonly ushort SqEntries, CqEntries;

        // SAFETY: NvmeController.Enable translated sq for sqEntries commands and cq for cqEntries completions.
        public unsafe AdminQueues(byte* sq, ushort sqEntries, byte* cq, ushort cqEntries)
        {
            Sq = sq;
            Cq = cq;
            SqEntries = sqEntries;
            CqEntries = cqEntries;
        }
    }

    /// <summary>Asks for a normal shutdown: finish what runs, fetch nothing more, flush, then report it done.</summary>
    public void RequestShutdown()
    {
        _shutdownRequested = true;
        _kick.Signal();
    }

    protected override bool Pass() => Service();

    protected override void OnFailed(string reason) => _owner.WorkerFailed();

    /// <summary>Requests the engine holds; tests wait for 0.</summary>
    internal int EngineInFlight => _engine.InFlight;
    internal bool ShadowActive => _shadow is not null;

    /// <summary>
    /// One pass: take doorbells, complete what the engine finished, post what waited for CQ room, fetch and run new
    /// commands from every SQ (admin first), submit, raise interrupts. Returns true when more can be done at once.
    /// </summary>
    internal bool Service()
    {
        _kick.Drain();
        Counters.EventFdDoorbells += (long)_ioeventfd.Drain();
        Reap();
        for (int q = 0; q < _cqs.Length; q++)
        {
            var cq = _cqs[q];
            if (cq is not null && cq.Deferred > 0) PostDeferred(cq);
        }
        bool more = false;
        for (int q = 0; q < _sqs.Length; q++)
        {
            var sq = _sqs[q];
            if (sq is null) continue;
            RefreshSqTail(sq);
            if (_shutdownRequested) continue;
            // Work that waits for backend room is not "more": the engine's completion eventfd wakes us for it.
            more |= !Fetch(sq) && sq.HasWork;
        }
        if (_shutdownRequested) Shutdown();
        _engine.Submit();
        CompleteDeletions();
        RaiseInterrupts();
        return more;
    }

    /// <summary>
    /// With shadow doorbells, tells the driver where we stand before sleeping (EventIdx = what we consumed; for a CQ
    /// we wait on, its head), then re-reads the shadows after a full fence: a value written meanwhile means the
    /// driver may have skipped its doorbell, so we must not sleep. Without shadows the kick eventfd covers it.
    /// </summary>
    protected internal override bool ReadyToSleep()
    {
        var shadow = _shadow;
        if (shadow is null) return true;
        for (int q = 1; q < _sqs.Length; q++)
            if (_sqs[q] is { } sq) shadow.SetSqEventIdx(q, sq.Tail);
        for (int q = 1; q < _cqs.Length; q++)
            if (_cqs[q] is { } cq)
                shadow.SetCqEventIdx(q, cq.Deferred > 0 ? cq.Head : ShadowDoorbells.QuietCqEventIdx(cq.Head, cq.Size));
        Interlocked.MemoryBarrier();
        for (int q = 1; q < _sqs.Length; q++)
            if (_sqs[q] is { } sq && shadow.SqTail(q) != sq.Tail && sq.FreeCount > 0 && !sq.Deleting) return false;
        for (int q = 1; q < _cqs.Length; q++)
            if (_cqs[q] is { } cq && cq.Deferred > 0 && shadow.CqHead(q) != cq.Head) return false;
        return true;
    }

    private void RefreshSqTail(SubmissionQueue sq)
    {
        uint value;
        if (_shadow is not null && sq.Id != 0) value = _shadow.SqTail(sq.Id);
        else
        {
            value = Volatile.Read(ref _doorbells.SqTail[sq.Id]);
            _shadow?.MirrorSqTail(sq.Id, value);
        }
        // A tail outside the queue is ignored (NVMe 1.4 §4.1: Invalid Doorbell Write Value), never used as an index.
        if (value < sq.Size) sq.Tail = (ushort)value;
    }

    private void RefreshCqHead(CompletionQueue cq)
    {
        uint value;
        if (_shadow is not null && cq.Id != 0) value = _shadow.CqHead(cq.Id);
        else
        {
            value = Volatile.Read(ref _doorbells.CqHead[cq.Id]);
            _shadow?.MirrorCqHead(cq.Id, value);
        }
        if (value < cq.Size) cq.Head = (ushort)value;
    }

    /// <summary>
    /// Fetches at most one queue's worth of commands (a driver that keeps adding cannot keep us here). Returns true
    /// when it stopped because the backend had no room for the next command.
    /// </summary>
    // SAFETY: sq.Head < sq.Size (every store to Head is taken modulo Size), so the entry lies in the ring translated
    // for Size entries when the queue was created.
    private unsafe bool Fetch(SubmissionQueue sq)
    {
        int budget = sq.Size;
        while (sq.HasWork && budget-- > 0)
        {
            var command = new NvmeSubmission(new ReadOnlySpan<byte>(sq.Entries + (nint)sq.Head * NvmeSubmission.Size, NvmeSubmission.Size));
            ushort head = sq.Head;
            if (sq.Id != 0 && _engine.Capacity - _engine.InFlight < EngineOpsNeeded(command))
            {
                Counters.BackendFull++;
                return true;
            }
            sq.Head = (ushort)((head + 1) % sq.Size);
            int slot = sq.Allocate();
            ref var s = ref sq.Slots[slot];
            s = new CommandSlot { CommandId = command.CommandId, State = SlotState.Busy };
            if (sq.Id == 0)
            {
                Counters.AdminCommands++;
                ExecuteAdmin(sq, slot, command);
            }
            else if (!ExecuteIo(sq, slot, command))
            {
                // The engine had no room after all (O_DIRECT bounce buffers): put the command back, retry later.
                sq.Head = head;
                sq.Release(slot);
                Counters.BackendFull++;
                return true;
            }
            else Counters.IoCommands++;
        }
        return false;
    }

    private void Reap()
    {
        _engine.AcknowledgeCompletionSignal();
        int n;
        do
        {
            n = _engine.Reap(_completions);
            for (int i = 0; i < n; i++)
            {
                ulong tag = _completions[i].UserData;
                if (tag == ShutdownFlushTag)
                {
                    _shutdownDone = true;
                    _owner.ShutdownComplete(_completions[i].Result);
                    continue;
                }
                var sq = _sqs[(int)(tag >> 16)]!; // an SQ with commands in flight is never removed
                int slot = (int)(tag & 0xFFFF);
                ref var s = ref sq.Slots[slot];
                ushort status = NvmeStatus.FromBackend(s.Op, _completions[i].Result, s.Expected);
                if (s.Status == NvmeStatus.Success) s.Status = status;
                if (--s.Pending > 0) continue;
                Account(ref s);
                Finish(sq, slot, s.Status, 0);
            }
        } while (n == _completions.Length);
    }

    private void Account(ref CommandSlot s)
    {
        if (!s.Tracked) return;
        if (s.Status != NvmeStatus.Success) { _health.MediaErrors++; return; }
        if (s.Op == NvmeBackendOp.Read) { _health.ReadCommands++; _health.BlocksRead += s.Blocks; }
        else { _health.WriteCommands++; _health.BlocksWritten += s.Blocks; }
    }

    /// <summary>Completes a command: posts its entry now, or keeps it for when the guest makes CQ room.</summary>
    private void Finish(SubmissionQueue sq, int slot, ushort status, uint result)
    {
        ref var s = ref sq.Slots[slot];
        s.Status = status;
        s.Result = result;
        s.State = SlotState.Done;
        var cq = _cqs[sq.CqId]!;
        if (cq.Deferred == 0 && TryPost(cq, sq, slot)) return;
        cq.Deferred++;
        Counters.CqFullWaits++;
    }

    private bool TryPost(CompletionQueue cq, SubmissionQueue sq, int slot)
    {
        if (cq.Full)
        {
            RefreshCqHead(cq);
            if (cq.Full) return false;
        }
        ref var s = ref sq.Slots[slot];
        cq.Post(s.Result, sq.Head, sq.Id, s.CommandId, s.Status);
        sq.Release(slot);
        return true;
    }

    private void PostDeferred(CompletionQueue cq)
    {
        for (int q = 0; q < _sqs.Length && cq.Deferred > 0; q++)
        {
            var sq = _sqs[q];
            if (sq is null || sq.CqId != cq.Id) continue;
            for (int slot = 0; slot < sq.Slots.Length && cq.Deferred > 0; slot++)
            {
                if (sq.Slots[slot].State != SlotState.Done) continue;
                if (!TryPost(cq, sq, slot)) return;
                cq.Deferred--;
            }
        }
    }

    private void RaiseInterrupts()
    {
        foreach (var cq in _cqs)
        {
            if (cq is null || !cq.InterruptDue) continue;
            cq.InterruptDue = false;
            // IEN = 0 (polled queues) never interrupts.
            if (!cq.InterruptsEnabled) continue;
            Counters.Interrupts++;
            _msix.Signal(cq.Vector);
        }
    }

    private void Shutdown()
    {
        if (_flushIssued || _engine.InFlight > 0) return;
        _flushIssued = true;
        if (!_engine.TryFlush(ShutdownFlushTag))
        {
            // Unreachable with nothing in flight; if it happens the flush did not run, which is a failure.
            _shutdownDone = true;
            _owner.ShutdownComplete(-Libc.EAGAIN);
        }
    }

    internal bool ShutdownDone => _shutdownDone;
}
