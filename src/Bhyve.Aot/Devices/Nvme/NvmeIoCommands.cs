using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// NVM command set I/O commands (NVMe 1.4 §6): Read, Write (FUA), Flush, Write Zeroes (DEAC) and Dataset
/// Management with the deallocate attribute. Checks run in QEMU's order (fields, opcode, namespace, transfer size,
/// LBA range, write protection, PRPs) and nothing reaches the backend before all of them pass; a DSM command's
/// ranges are all validated before any is deallocated.
/// </summary>
internal sealed partial class NvmeQueueProcessor
{
    private const int MaxDsmRanges = 256, DsmRangeSize = 16;

    /// <summary>Backend requests a command will need, so a command is only fetched when they all fit.</summary>
    private static int EngineOpsNeeded(in NvmeSubmission c) =>
        c.Opcode == NvmeIoOpcode.DatasetManagement && (c.Cdw11 & 4) != 0 ? (int)(c.Cdw10 & 0xFF) + 1 : 1;

    /// <summary>Runs one I/O command. False only when the engine refused it and nothing happened (retry later).</summary>
    private bool ExecuteIo(SubmissionQueue sq, int slot, in NvmeSubmission c)
    {
        ushort status = Validate(c);
        if (status != NvmeStatus.Success)
        {
            Finish(sq, slot, status, 0);
            return true;
        }
        ref var s = ref sq.Slots[slot];
        ulong tag = ((ulong)sq.Id << 16) | (uint)slot;
        switch (c.Opcode)
        {
            case NvmeIoOpcode.Flush:
                if (_ns.ReadOnly) break;
                s.Op = NvmeBackendOp.Flush;
                return Submitted(ref s, _engine.TryFlush(tag));
            case NvmeIoOpcode.Read or NvmeIoOpcode.Write:
            {
                ulong bytes = (ulong)c.BlockCount << _ns.LbaShift;
                status = PrpWalker.Walk(_memory, c.Prp1, c.Prp2, bytes, _iov, out int segments);
                if (status != NvmeStatus.Success) break;
                bool read = c.Opcode == NvmeIoOpcode.Read;
                s.Op = read ? NvmeBackendOp.Read : NvmeBackendOp.Write;
                s.Expected = bytes;
                s.Blocks = c.BlockCount;
                s.Tracked = true;
                ulong offset = c.StartLba << _ns.LbaShift;
                var iov = new ReadOnlySpan<Storage.IoVec>(_iov, 0, segments);
                // With the volatile write cache turned off every write is write-through.
                return Submitted(ref s, read
                    ? _engine.TryRead(offset, iov, tag)
                    : _engine.TryWrite(offset, iov, c.ForceUnitAccess || !_features.WriteCacheEnabled, tag));
            }
            case NvmeIoOpcode.WriteZeroes:
                s.Op = NvmeBackendOp.WriteZeroes;
                return Submitted(ref s, _engine.TryWriteZeroes(c.StartLba << _ns.LbaShift, (ulong)c.BlockCount << _ns.LbaShift,
                                                                c.Deallocate && _ns.DeallocateWorks, tag));
            case NvmeIoOpcode.DatasetManagement:
                return Deallocate(sq, slot, c, tag);
        }
        Finish(sq, slot, status, 0);
        return true;
    }

    /// <summary>Everything about a command that can be checked without touching guest memory.</summary>
    private ushort Validate(in NvmeSubmission c)
    {
        if (c.Fuse != 0 || c.Psdt != 0) return NvmeStatus.InvalidField;
        bool writes;
        switch (c.Opcode)
        {
            case NvmeIoOpcode.Flush:
                // Broadcast NSID FFFFFFFFh is allowed for Flush: VWC bits 2:1 say so.
                return c.Nsid == NvmeNamespace.Id || c.Nsid == 0xFFFF_FFFF ? NvmeStatus.Success : NvmeStatus.InvalidNamespace;
            case NvmeIoOpcode.Read: writes = false; break;
            case NvmeIoOpcode.Write: writes = true; break;
            case NvmeIoOpcode.WriteZeroes when _ns.WriteZeroes: writes = true; break;
            case NvmeIoOpcode.DatasetManagement when _ns.Dsm:
                if (c.Nsid != NvmeNamespace.Id) return NvmeStatus.InvalidNamespace;
                return (c.Cdw11 & 4) != 0 && _ns.ReadOnly ? NvmeStatus.NamespaceWriteProtected : NvmeStatus.Success;
            default: return NvmeStatus.InvalidOpcode;
        }
        if (c.Nsid != NvmeNamespace.Id) return NvmeStatus.InvalidNamespace;
        // Write Zeroes moves no data, so MDTS does not bound it (QEMU skips the check too).
        if (c.Opcode != NvmeIoOpcode.WriteZeroes && ((ulong)c.BlockCount << _ns.LbaShift) > _identity.MaxTransferBytes) return NvmeStatus.InvalidField;
        if (!_ns.InRange(c.StartLba, c.BlockCount)) return NvmeStatus.LbaOutOfRange;
        if (writes && _ns.ReadOnly) return NvmeStatus.NamespaceWriteProtected;
        return NvmeStatus.Success;
    }

    private static bool Submitted(ref CommandSlot s, bool accepted)
    {
        if (accepted) s.Pending = 1;
        return accepted;
    }

    /// <summary>
    /// Dataset Management: without the deallocate attribute the hints are advisory (Success). With it, read all
    /// NR+1 ranges (16 bytes each: attributes, a 1-based block count, the starting LBA), fail the whole command
    /// if any lies outside the namespace, merge ranges that follow each other, then deallocate each as one backend
    /// request (punch-hole on files, zero-out with unmap on devices). A backend that cannot deallocate (dsm=enable)
    /// succeeds without freeing anything, which DLFEAT allows since it then promises nothing.
    /// </summary>
    private bool Deallocate(SubmissionQueue sq, int slot, in NvmeSubmission c, ulong tag)
    {
        if ((c.Cdw11 & 4) == 0)
        {
            Finish(sq, slot, NvmeStatus.Success, 0);
            return true;
        }
        int ranges = (int)(c.Cdw10 & 0xFF) + 1;
        Span<byte> buffer = stackalloc byte[MaxDsmRanges * DsmRangeSize];
        var list = buffer[..(ranges * DsmRangeSize)];
        ushort status = PrpWalker.CopyFrom(_memory, c.Prp1, c.Prp2, list, _iov);
        for (int i = 0; i < ranges && status == NvmeStatus.Success; i++)
        {
            RangeAt(list, i, out ulong slba, out uint count);
            if (!_ns.InRange(slba, count)) status = NvmeStatus.LbaOutOfRange;
        }
        if (status != NvmeStatus.Success || !_ns.DeallocateWorks)
        {
            Finish(sq, slot, status, 0);
            return true;
        }
        ref var s = ref sq.Slots[slot];
        s.Op = NvmeBackendOp.Deallocate;
        ulong runStart = 0, runCount = 0;
        for (int i = 0; i <= ranges; i++)
        {
            ulong slba = 0, count = 0;
            if (i < ranges)
            {
                RangeAt(list, i, out slba, out uint n);
                count = n;
                if (count == 0) continue;
                if (runCount != 0 && slba == runStart + runCount) { runCount += count; continue; }
            }
            if (runCount != 0)
            {
                // Room for every range was checked before the command was fetched, so this cannot be refused.
                if (!_engine.TryDiscard(runStart << _ns.LbaShift, runCount << _ns.LbaShift, tag)) { s.Status = NvmeStatus.InternalError; break; }
                s.Pending++;
            }
            runStart = slba;
            runCount = count;
        }
        if (s.Pending == 0) Finish(sq, slot, s.Status, 0);
        return true;
    }

    private static void RangeAt(ReadOnlySpan<byte> list, int i, out ulong slba, out uint count)
    {
        var r = list.Slice(i * DsmRangeSize, DsmRangeSize);
        count = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]);
        slba = BinaryPrimitives.ReadUInt64LittleEndian(r[8..]);
    }
}
