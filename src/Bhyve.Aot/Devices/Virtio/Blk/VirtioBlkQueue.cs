using System.Buffers.Binary;
using Bhyve.Aot.Devices.Runtime;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Virtio.Blk;

/// <summary>Per-queue counters, read by `run --stats` and benchmarks (exits and interrupts per request).</summary>
public struct VirtioQueueCounters
{
    public long Requests, Doorbells, Interrupts, BackendFull;
    /// <summary>Failures the queue worker's boundary caught (host errors, bugs): each one needed a guest reset.</summary>
    public long Faults;

    public void Add(in VirtioQueueCounters other)
    {
        Faults += other.Faults;
        Requests += other.Requests;
        Doorbells += other.Doorbells;
        Interrupts += other.Interrupts;
        BackendFull += other.BackendFull;
    }
}

/// <summary>
/// One virtio-blk queue, served by its own DeviceWorker: wake on the doorbell eventfd or the engine's completion
/// eventfd, pop and frame at most a queue's worth of requests per pass, hand them to the engine straight over guest
/// RAM, complete them into the used ring, interrupt when the guest asked for it. Nothing on this path allocates or
/// takes a lock. A corrupt ring marks the device DEVICE_NEEDS_RESET (tier 2); so does anything the worker's
/// boundary catches (a host failure), after which the queue stops serving.
/// </summary>
internal sealed class VirtioBlkQueue : DeviceWorker
{
    private const int MaxChainSegments = 1024;
    private const int DoorbellToken = 0, CompletionToken = 1;

    private readonly int _index;
    private readonly SplitVirtqueue _queue;
    private readonly GuestMemory _memory;
    private readonly IBlockEngine _engine;
    private readonly EventFd _doorbell;
    private readonly VirtioActivation _activation;
    private readonly VirtioBlkDisk _disk;
    private readonly bool _indirect;
    private readonly ChainSegment[] _chain = new ChainSegment[MaxChainSegments];
    private readonly IoVec[] _iov;
    private readonly BlockCompletion[] _completions;
    private readonly GuestSlice[] _statusOf; // per head: the status byte to write on completion
    private readonly uint[] _usedLengthOf; // per head: used-ring length on success
    private readonly ulong[] _expectedOf;  // per head: bytes the engine must report for success
    private readonly bool[] _inFlight;
    private int _chainCount;               // segments of the chain being dispatched, in _chain
    private bool _broken;
    private bool _engineRefused;           // the engine had no room for the next request: wait for a completion
    public VirtioQueueCounters Counters;

    public VirtioBlkQueue(int index, SplitVirtqueue queue, VirtioActivation activation, VirtioBlkDisk disk, IBlockEngine engine, int maxDataSegments)
        : base($"virtio-blk queue {index}", engine)
    {
        _index = index;
        _queue = queue;
        _memory = activation.Memory;
        _engine = engine;
        _doorbell = activation.Notifiers[index];
        _activation = activation;
        _disk = disk;
        _indirect = activation.Has(VirtioFeatures.IndirectDesc);
        _iov = new IoVec[maxDataSegments];
        _completions = new BlockCompletion[Math.Max(engine.Capacity, 1)];
        _statusOf = new GuestSlice[queue.Size];
        _usedLengthOf = new uint[queue.Size];
        _expectedOf = new ulong[queue.Size];
        _inFlight = new bool[queue.Size];
        Loop.Add(_doorbell.Fd, DoorbellToken);
        Loop.Add(engine.CompletionEventFd, CompletionToken);
    }

    protected override bool Pass() => Service();

    protected override void OnFailed(string reason) => Break(reason);

    /// <summary>
    /// One pass over the queue: take doorbells, complete what the engine finished, pop and submit at most Size new
    /// requests, interrupt if the guest wants it. Returns true when more work is already waiting (do not sleep).
    /// The worker calls it in its loop; tests call it directly on their own thread.
    /// </summary>
    internal bool Service()
    {
        Counters.Doorbells += (long)_doorbell.Drain();
        Complete();
        bool budgetLeft = true;
        _engineRefused = false;
        if (!_broken) budgetLeft = Pop();
        _engine.Submit();
        // One used->idx store and at most one interrupt for everything this pass completed.
        _queue.PublishUsed();
        if (_queue.NeedsNotification())
        {
            Counters.Interrupts++;
            _activation.Interrupts.Queue(_index);
        }
        if (_broken) return false;
        // A full engine (capacity or O_DIRECT bounce buffers) wakes us through its completion eventfd: sleep on it.
        if (_engineRefused) return false;
        return !budgetLeft || _queue.EnableNotification();
    }

    /// <summary>Requests handed to the engine and not yet completed.</summary>
    internal int EngineInFlight => _engine.InFlight;

    private void Complete()
    {
        _engine.AcknowledgeCompletionSignal();
        int n;
        do
        {
            n = _engine.Reap(_completions);
            for (int i = 0; i < n; i++)
            {
                ushort head = (ushort)_completions[i].UserData;
                int result = _completions[i].Result;
                bool ok = result >= 0 && (ulong)result == _expectedOf[head];
                Finish(head, ok ? VirtioBlkType.StatusOk : VirtioBlkType.StatusIoErr, ok ? _usedLengthOf[head] : 1);
            }
        } while (n == _completions.Length);
    }

    /// <summary>Pops at most one queue's worth of chains. Returns false when that budget ran out with entries left.</summary>
    private bool Pop()
    {
        int budget = _queue.Size;
        while (true)
        {
            if (_engine.InFlight >= _engine.Capacity) { _engineRefused = true; return true; }
            var popped = _queue.TryPop(ref budget, out ushort head);
            if (popped == PopResult.Empty) return true;
            if (popped == PopResult.BudgetSpent) return false;
            if (popped == PopResult.Corrupt) { Break("avail ring corrupt (index jump or head out of range)"); return true; }
            if (_inFlight[head]) { Break($"head {head} made available twice"); return true; }
            var error = DescriptorChain.Walk(_queue, _memory, head, _indirect, _chain, out int count, out _);
            if (error != ChainError.None) { Break($"descriptor chain at head {head}: {error}"); return true; }
            _chainCount = count;
            string? fatal = VirtioBlkRequest.TryParse(new ReadOnlySpan<ChainSegment>(_chain, 0, count), _iov, out var request);
            if (fatal is not null) { Break($"request at head {head}: {fatal}"); return true; }
            if (Dispatch(head, ref request)) Counters.Requests++;
            else
            {
                // The engine is full (no bounce buffer free): give the chain back and retry after a completion.
                _queue.UndoPop();
                Counters.BackendFull++;
                _engineRefused = true;
                return true;
            }
        }
    }

    /// <summary>Acts on one framed request. Returns false only when the engine has no room (nothing happened).</summary>
    private bool Dispatch(ushort head, ref VirtioBlkRequest r)
    {
        _statusOf[head] = r.StatusByte;
        _usedLengthOf[head] = 1;
        _expectedOf[head] = 0;
        // Unknown types are UNSUPP whatever their buffers look like; malformed data only matters to known ones.
        bool malformed = r.DataSegments < 0 || r.StrayLength != 0;
        var data = new ReadOnlySpan<IoVec>(_iov, 0, Math.Max(r.DataSegments, 0));
        ulong offset = r.Sector * 512;
        switch (r.Type)
        {
            case VirtioBlkType.In or VirtioBlkType.Out:
                if (malformed || r.DataLength % 512 != 0 || r.DataLength > int.MaxValue || !_disk.InRange(r.Sector, r.DataLength / 512))
                    return Done(head, VirtioBlkType.StatusIoErr);
                if (r.Type == VirtioBlkType.Out && _disk.ReadOnly) return Done(head, VirtioBlkType.StatusIoErr);
                if (r.DataLength == 0) return Done(head, VirtioBlkType.StatusOk);
                _expectedOf[head] = r.DataLength;
                _usedLengthOf[head] = r.Type == VirtioBlkType.In ? (uint)r.DataLength + 1 : 1;
                return Submitted(head, r.Type == VirtioBlkType.In
                    ? _engine.TryRead(offset, data, head)
                    : _engine.TryWrite(offset, data, fua: false, head));
            case VirtioBlkType.Flush or VirtioBlkType.FlushOut:
                return Submitted(head, _engine.TryFlush(head));
            case VirtioBlkType.GetId:
                if (malformed) return Done(head, VirtioBlkType.StatusIoErr);
                return Done(head, WriteSerial(r.DataLength), (uint)Math.Min(r.DataLength, 20) + 1);
            case VirtioBlkType.Discard when _disk.Discard && !_disk.ReadOnly:
            case VirtioBlkType.WriteZeroes when _disk.WriteZeroes && !_disk.ReadOnly:
                if (malformed) return Done(head, VirtioBlkType.StatusIoErr);
                return RangeRequest(head, ref r);
            default:
                return Done(head, VirtioBlkType.StatusUnsupported);
        }
    }

    private bool RangeRequest(ushort head, ref VirtioBlkRequest r)
    {
        // One segment, as we advertise max_*_seg = 1; a segment may straddle buffers, so gather it.
        if (r.DataLength != VirtioBlkType.SegmentSize) return Done(head, VirtioBlkType.StatusUnsupported);
        Span<byte> segment = stackalloc byte[VirtioBlkType.SegmentSize];
        var reader = new ChainReader(Chain);
        reader.Skip(VirtioBlkType.HeaderSize);
        reader.Read(segment);
        ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
        uint sectors = BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(segment[12..]);
        bool discard = r.Type == VirtioBlkType.Discard;
        const uint Unmap = 1;
        if ((flags & ~Unmap) != 0 || (discard && flags != 0)) return Done(head, VirtioBlkType.StatusUnsupported);
        uint max = discard ? VirtioBlkDisk.MaxDiscardSectors : VirtioBlkDisk.MaxWriteZeroesSectors;
        uint perBlock = _disk.BlockSize / 512;
        if (sectors > max || !_disk.InRange(sector, sectors) || sector % perBlock != 0 || sectors % perBlock != 0)
            return Done(head, VirtioBlkType.StatusIoErr);
        if (sectors == 0) return Done(head, VirtioBlkType.StatusOk);
        return Submitted(head, discard
            ? _engine.TryDiscard(sector * 512, (ulong)sectors * 512, head)
            : _engine.TryWriteZeroes(sector * 512, (ulong)sectors * 512, (flags & Unmap) != 0 && _disk.WriteZeroesMayUnmap, head));
    }

    private ReadOnlySpan<ChainSegment> Chain => new(_chain, 0, _chainCount);

    /// <summary>The serial into the writable buffers before the status byte (dataLength of them, 64-bit).</summary>
    private byte WriteSerial(ulong dataLength)
    {
        // 20 bytes of ASCII, NUL-padded, no terminator when exactly 20 (§5.2.6).
        Span<byte> id = stackalloc byte[20];
        id.Clear();
        for (int i = 0; i < _disk.Serial.Length && i < 20; i++) id[i] = (byte)_disk.Serial[i];
        var writer = new ChainWriter(Chain, dataLength);
        writer.Write(id);
        return VirtioBlkType.StatusOk;
    }

    private bool Submitted(ushort head, bool accepted)
    {
        if (accepted) _inFlight[head] = true;
        return accepted;
    }

    private bool Done(ushort head, byte status, uint usedLength = 1)
    {
        _inFlight[head] = true;
        Finish(head, status, usedLength);
        return true;
    }

    private void Finish(ushort head, byte status, uint usedLength)
    {
        _statusOf[head].TryWriteByte(0, status);
        _inFlight[head] = false;
        _queue.AddUsed(head, usedLength);
    }

    private void Break(string reason)
    {
        _broken = true;
        _activation.NeedsReset(reason);
    }
}
