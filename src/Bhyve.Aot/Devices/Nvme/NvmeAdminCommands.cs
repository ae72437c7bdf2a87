namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// Admin commands (NVMe 1.4 §5), run inline on the queue processor's thread: queue creation and deletion with the
/// checks of §5.3-5.7, Identify, Get Log Page, Get/Set Features, Asynchronous Event Request, Abort and Doorbell
/// Buffer Config. Admin commands with FUSE or PSDT set are Invalid Field.
/// </summary>
internal sealed partial class NvmeQueueProcessor
{
    private void ExecuteAdmin(SubmissionQueue sq, int slot, in NvmeSubmission c)
    {
        if (c.Fuse != 0 || c.Psdt != 0)
        {
            Finish(sq, slot, NvmeStatus.InvalidField, 0);
            return;
        }
        uint result = 0;
        ushort status;
        switch (c.Opcode)
        {
            case NvmeAdminOpcode.DeleteIoSq:
                status = DeleteSq(c, slot, out bool parked);
                if (parked) return;
                break;
            case NvmeAdminOpcode.CreateIoSq: status = CreateSq(c); break;
            case NvmeAdminOpcode.GetLogPage: status = GetLogPage(c); break;
            case NvmeAdminOpcode.DeleteIoCq: status = DeleteCq(c); break;
            case NvmeAdminOpcode.CreateIoCq: status = CreateCq(c); break;
            case NvmeAdminOpcode.Identify: status = Identify(c); break;
            case NvmeAdminOpcode.Abort:
                result = 1; // "command not aborted": allowed, and Linux resets the controller on timeouts anyway
                status = NvmeStatus.Success;
                break;
            case NvmeAdminOpcode.SetFeatures: status = _features.Set(c, _ioQueuesCreated, out result); break;
            case NvmeAdminOpcode.GetFeatures: status = _features.Get(c, out result); break;
            case NvmeAdminOpcode.AsyncEventRequest:
                if (_parkedAers > NvmeFeatures.AsyncEventLimit) { status = NvmeStatus.AerLimitExceeded; break; }
                // Parked until an event; we raise none, and a reset drops them without completion.
                _parkedAers++;
                sq.Slots[slot].State = SlotState.Parked;
                return;
            case NvmeAdminOpcode.DoorbellBufferConfig: status = ConfigureShadowDoorbells(c); break;
            default: status = NvmeStatus.InvalidOpcode; break;
        }
        Finish(sq, slot, status, result);
    }

    // SAFETY: the ring pointer comes from TryTranslate of the whole ring (entries * 16 bytes), and qid was checked against the queue tables first
    private unsafe ushort CreateCq(in NvmeSubmission c)
    {
        uint qid = c.Cdw10 & 0xFFFF, entries = (c.Cdw10 >> 16) + 1, vector = c.Cdw11 >> 16;
        bool contiguous = (c.Cdw11 & 1) != 0, interrupts = (c.Cdw11 & 2) != 0;
        if (qid == 0 || qid > (uint)_features.AllocatedCqs || _cqs[qid] is not null) return NvmeStatus.InvalidQueueIdentifier;
        if (entries < 2 || entries > (uint)_maxEntries) return NvmeStatus.InvalidQueueSize;
        if (!contiguous || !_cqEntry16) return NvmeStatus.InvalidField;
        if ((c.Prp1 & (NvmeRegisters.PageSize - 1)) != 0) return NvmeStatus.InvalidPrpOffset;
        if (vector >= (uint)_msix.VectorCount) return NvmeStatus.InvalidInterruptVector;
        if (!_memory.TryTranslate(c.Prp1, entries * NvmeCompletion.Size, out byte* ring)) return NvmeStatus.InvalidField;
        var cq = new CompletionQueue((ushort)qid, (int)entries, ring, (ushort)vector, interrupts);
        Volatile.Write(ref _doorbells.CqHead[qid], 0);
        if (_shadow is { } shadow)
        {
            shadow.MirrorCqHead((int)qid, 0);
            shadow.SetCqEventIdx((int)qid, ShadowDoorbells.QuietCqEventIdx(0, cq.Size));
        }
        _cqs[qid] = cq;
        _ioQueuesCreated = true;
        return NvmeStatus.Success;
    }

    // SAFETY: the ring pointer comes from TryTranslate of the whole ring (entries * 64 bytes), and qid/cqid were checked against the queue tables first
    private unsafe ushort CreateSq(in NvmeSubmission c)
    {
        uint qid = c.Cdw10 & 0xFFFF, entries = (c.Cdw10 >> 16) + 1, cqid = c.Cdw11 >> 16;
        bool contiguous = (c.Cdw11 & 1) != 0;
        if (cqid == 0 || cqid >= (uint)_cqs.Length || _cqs[cqid] is null) return NvmeStatus.CompletionQueueInvalid;
        if (qid == 0 || qid > (uint)_features.AllocatedSqs || _sqs[qid] is not null) return NvmeStatus.InvalidQueueIdentifier;
        if (entries < 2 || entries > (uint)_maxEntries) return NvmeStatus.InvalidQueueSize;
        if (!contiguous || !_sqEntry64) return NvmeStatus.InvalidField;
        if ((c.Prp1 & (NvmeRegisters.PageSize - 1)) != 0) return NvmeStatus.InvalidPrpOffset;
        if (!_memory.TryTranslate(c.Prp1, entries * NvmeSubmission.Size, out byte* ring)) return NvmeStatus.InvalidField;
        // Head and tail start at 0 on every create, whatever an earlier queue with this id left (bhyve rS364603).
        Volatile.Write(ref _doorbells.SqTail[qid], 0);
        if (_shadow is { } shadow)
        {
            shadow.MirrorSqTail((int)qid, 0);
            shadow.SetSqEventIdx((int)qid, 0);
        }
        _sqs[qid] = new SubmissionQueue((ushort)qid, (int)entries, ring, (ushort)cqid);
        _cqs[cqid]!.SqReferences++;
        _ioQueuesCreated = true;
        return NvmeStatus.Success;
    }

    /// <summary>
    /// Deletes an I/O SQ. Commands it still has in the backend finish first (their completions are posted), then
    /// the Delete completes: parked meanwhile, so no completion for that SQ can follow the Delete's.
    /// </summary>
    private ushort DeleteSq(in NvmeSubmission c, int adminSlot, out bool parked)
    {
        parked = false;
        uint qid = c.Cdw10 & 0xFFFF;
        if (qid == 0 || qid >= (uint)_sqs.Length || _sqs[qid] is not { } sq || sq.Deleting) return NvmeStatus.InvalidQueueIdentifier;
        sq.Deleting = true;
        if (sq.Outstanding == 0)
        {
            RemoveSq(sq);
            return NvmeStatus.Success;
        }
        sq.DeleteSlot = adminSlot;
        _sqs[0]!.Slots[adminSlot].State = SlotState.Parked;
        parked = true;
        return NvmeStatus.Success;
    }

    private void CompleteDeletions()
    {
        for (int q = 1; q < _sqs.Length; q++)
        {
            if (_sqs[q] is not { Deleting: true } sq || sq.Outstanding != 0) continue;
            RemoveSq(sq);
            Finish(_sqs[0]!, sq.DeleteSlot, NvmeStatus.Success, 0);
        }
    }

    private void RemoveSq(SubmissionQueue sq)
    {
        _cqs[sq.CqId]!.SqReferences--;
        _sqs[sq.Id] = null;
    }

    private ushort DeleteCq(in NvmeSubmission c)
    {
        uint qid = c.Cdw10 & 0xFFFF;
        if (qid == 0 || qid >= (uint)_cqs.Length || _cqs[qid] is not { } cq) return NvmeStatus.InvalidQueueIdentifier;
        if (cq.SqReferences > 0) return NvmeStatus.InvalidQueueDeletion;
        _cqs[qid] = null;
        return NvmeStatus.Success;
    }

    private ushort Identify(in NvmeSubmission c)
    {
        var page = _page.AsSpan();
        switch ((byte)c.Cdw10)
        {
            case NvmeIdentify.CnsNamespace:
                if (c.Nsid != NvmeNamespace.Id) return NvmeStatus.InvalidNamespace;
                NvmeIdentify.Namespace(page, _ns);
                break;
            case NvmeIdentify.CnsController:
                NvmeIdentify.Controller(page, _identity, _ns, _maxEntries, shadowDoorbells: true);
                break;
            case NvmeIdentify.CnsActiveNamespaces:
                if (c.Nsid >= 0xFFFF_FFFE) return NvmeStatus.InvalidNamespace;
                NvmeIdentify.ActiveNamespaces(page, c.Nsid);
                break;
            case NvmeIdentify.CnsDescriptors:
                if (c.Nsid != NvmeNamespace.Id) return NvmeStatus.InvalidNamespace;
                NvmeIdentify.Descriptors(page, _ns);
                break;
            default:
                return NvmeStatus.InvalidField;
        }
        return PrpWalker.CopyTo(_memory, c.Prp1, c.Prp2, page, _iov);
    }

    private ushort GetLogPage(in NvmeSubmission c)
    {
        byte lid = (byte)c.Cdw10;
        ulong dwords = ((c.Cdw10 >> 16) | ((ulong)(c.Cdw11 & 0xFFFF) << 16)) + 1;
        ulong offset = c.Cdw12 | ((ulong)c.Cdw13 << 32);
        if (c.Nsid != 0 && c.Nsid != 0xFFFF_FFFF && c.Nsid != NvmeNamespace.Id) return NvmeStatus.InvalidNamespace;
        var log = _page.AsSpan(0, NvmeLogPages.MaxLogBytes);
        int size = NvmeLogPages.Build(lid, log, _health, _ns.BlockSize, _identity.Firmware);
        if (size < 0) return NvmeStatus.InvalidLogPage;
        ushort status = NvmeLogPages.Window(offset, dwords * 4, size, out int start, out int length);
        if (status != NvmeStatus.Success) return status;
        return PrpWalker.CopyTo(_memory, c.Prp1, c.Prp2, log.Slice(start, length), _iov);
    }

    /// <summary>
    /// Doorbell Buffer Config: PRP1 is the shadow page, PRP2 the EventIdx page, both page aligned and in RAM. The
    /// current values go into the shadow so driver and device start from the same numbers; then the I/O queue
    /// doorbells become ioeventfds (no exits) and only the admin queue keeps MMIO doorbells.
    /// </summary>
    // SAFETY: both pages come from TryTranslate of a whole 4 KiB page, and controllers with more than MaxQueueId queues are refused before
    private unsafe ushort ConfigureShadowDoorbells(in NvmeSubmission c)
    {
        const ulong PageMask = NvmeRegisters.PageSize - 1;
        if ((c.Prp1 & PageMask) != 0 || (c.Prp2 & PageMask) != 0 || c.Prp1 == c.Prp2) return NvmeStatus.InvalidField;
        if (_maxIoQueues > ShadowDoorbells.MaxQueueId) return NvmeStatus.InvalidField;
        if (!_memory.TryTranslate(c.Prp1, NvmeRegisters.PageSize, out byte* shadowPage)
            || !_memory.TryTranslate(c.Prp2, NvmeRegisters.PageSize, out byte* eventPage)) return NvmeStatus.InvalidField;
        var shadow = new ShadowDoorbells((uint*)shadowPage, (uint*)eventPage);
        for (int q = 0; q < _sqs.Length; q++)
        {
            if (_sqs[q] is not { } sq) continue;
            RefreshSqTail(sq);
            shadow.MirrorSqTail(q, sq.Tail);
            shadow.SetSqEventIdx(q, sq.Tail);
        }
        for (int q = 0; q < _cqs.Length; q++)
        {
            if (_cqs[q] is not { } cq) continue;
            RefreshCqHead(cq);
            shadow.MirrorCqHead(q, cq.Head);
            shadow.SetCqEventIdx(q, ShadowDoorbells.QuietCqEventIdx(cq.Head, cq.Size));
        }
        _shadow = shadow;
        _owner.BindShadowDoorbells();
        return NvmeStatus.Success;
    }
}
