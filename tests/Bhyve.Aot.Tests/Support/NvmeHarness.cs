using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;

namespace Bhyve.Aot.Tests.Support;

/// <summary>Records MSI-X deliveries.</summary>
internal sealed class CountingMsiSink : IMsiSink
{
    public readonly List<int> Fired = [];
    public void Route(int vector, ulong address, uint data) { }
    public void Fire(int vector) => Fired.Add(vector);
}

/// <summary>The real backend (its flush-error latch included), counting the flushes the controller asks of it.</summary>
internal sealed class CountingBackend(BlockFile file) : IBlockBackendControl
{
    public int Flushes, Resets;

    public int Flush()
    {
        Flushes++;
        return file.Flush();
    }

    public void ClearFlushError()
    {
        Resets++;
        file.ClearFlushError();
    }
}

/// <summary>Records which doorbell addresses are ioeventfds.</summary>
internal sealed class RecordingBinder : IDoorbellBinder
{
    public readonly HashSet<ulong> Bound = [];
    public void Bind(ulong address, uint length, EventFd target) => Bound.Add(address);
    public void Unbind(ulong address, uint length, EventFd target) => Bound.Remove(address);
}

/// <summary>
/// An NVMe controller over guarded fake guest RAM and a real temp file, with a tiny polled driver: it enables the
/// controller, submits admin and I/O commands, rings doorbells through the BAR0 write path, and services the queue
/// processor on the test thread (its thread is never started). RAM is surrounded by guard bytes that must survive.
/// Guest layout: admin SQ 0x10000, admin CQ 0x11000, I/O SQ q at 0x20000 + q*0x10000 (CQ at +0x8000),
/// shadow pages 0x12000/0x13000, data from 0x100000 on.
/// </summary>
internal sealed unsafe class NvmeHarness : IDisposable
{
    public const ulong RamSize = 8 << 20, Guard = 64 << 10;
    public const ulong AdminSq = 0x10000, AdminCq = 0x11000, ShadowPage = 0x12000, EventIdxPage = 0x13000, Data = 0x100000;
    public const ushort AdminEntries = 32;
    public const string Serial = "NVTEST01";
    private readonly byte* _block;
    private readonly StorageScratch _scratch = new();
    private readonly Dictionary<int, (ulong Base, ushort Size, ushort Head, bool Phase)> _cqs = [];
    private readonly Dictionary<int, (ulong Base, ushort Size, ushort Tail, int Cq)> _sqs = [];
    private ushort _cid;

    public NvmeHarness(BlockEngineKind kind = BlockEngineKind.IoUring, ulong diskBytes = 4 << 20, int lbaShift = 9, bool readOnly = false,
                       DsmModeForTest dsm = DsmModeForTest.Auto, int maxIoQueues = 4, int maxEntries = 256, int engineDepth = 300,
                       Func<IBlockEngine>? engine = null)
    {
        _block = (byte*)NativeMemory.AllocZeroed((nuint)(RamSize + 2 * Guard));
        new Span<byte>(_block, (int)Guard).Fill(0xA5);
        new Span<byte>(_block + Guard + RamSize, (int)Guard).Fill(0xA5);
        Memory = GuestMemory.Wrap(0, _block + Guard, RamSize);
        Path = _scratch.PathOf("nvme.img");
        if (readOnly)
        {
            using (var w = BlockFile.Create(Path, diskBytes)) { }
            File = BlockFile.Open(Path, readOnly: true);
        }
        else File = BlockFile.Create(Path, diskBytes);
        bool offerDsm = !readOnly && dsm switch { DsmModeForTest.Enable => true, DsmModeForTest.Disable => false, _ => File.CanDiscard };
        Namespace = new NvmeNamespace(File.Size >> lbaShift, lbaShift, readOnly, offerDsm, offerDsm && File.CanDiscard,
                                      !readOnly && File.CanWriteZeroes, Serial);
        var identity = new NvmeIdentity(NvmeController.Vendor, NvmeController.Vendor, Serial, NvmeIdentity.DefaultModel,
                                        NvmeIdentity.DefaultFirmware, NvmeIdentity.DefaultMdts, 1);
        var options = BlockEngineOptions.Default with { QueueDepth = engineDepth, MaxSegments = NvmeQueueProcessor.MaxSegments };
        Backend = new CountingBackend(File);
        Controller = new NvmeController(Namespace, identity, maxIoQueues, maxEntries, Memory, Msi, Binder,
                                        engine ?? (() => EngineDriver.Create(kind, File, options)), Backend, startThreads: false);
    }

    public GuestMemory Memory { get; }
    public string Path { get; }
    public BlockFile File { get; }
    public NvmeNamespace Namespace { get; }
    public NvmeController Controller { get; }
    public CountingMsiSink Msi { get; } = new();
    public RecordingBinder Binder { get; } = new();
    public CountingBackend Backend { get; }
    public int Flushes => Backend.Flushes;

    public Span<byte> Ram(ulong gpa, int length) => new(_block + Guard + gpa, length);
    public bool GuardsIntact =>
        !new Span<byte>(_block, (int)Guard).ContainsAnyExcept((byte)0xA5) && !new Span<byte>(_block + Guard + RamSize, (int)Guard).ContainsAnyExcept((byte)0xA5);

    // ---- registers ----

    public uint Read32(ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        Controller.RegisterRead(offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public ulong Read64(ulong offset)
    {
        Span<byte> b = stackalloc byte[8];
        Controller.RegisterRead(offset, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public void Write32(ulong offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Controller.RegisterWrite(offset, b);
    }

    public void Write64(ulong offset, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        Controller.RegisterWrite(offset, b);
    }

    public const uint CcEnabled = 1 | (6 << 16) | (4 << 20);
    public uint Csts => Read32(NvmeRegisters.Csts);

    /// <summary>Programs the admin queues and sets CC.EN; returns CSTS.</summary>
    public uint Enable(ushort entries = AdminEntries, uint cc = CcEnabled, ulong asq = AdminSq, ulong acq = AdminCq)
    {
        Ram(AdminSq, 0x2000).Clear();
        Write32(NvmeRegisters.Aqa, (uint)(entries - 1) | ((uint)(entries - 1) << 16));
        Write64(NvmeRegisters.Asq, asq);
        Write64(NvmeRegisters.Acq, acq);
        Write32(NvmeRegisters.Cc, cc);
        _cqs.Clear();
        _sqs.Clear();
        _shadowOn = false;
        _cqs[0] = (AdminCq, entries, 0, true);
        _sqs[0] = (AdminSq, entries, 0, 0);
        return Csts;
    }

    public void Disable() => Write32(NvmeRegisters.Cc, 0);

    // ---- commands ----

    public readonly record struct Completion(ushort Status, uint Result, ushort SqHead, ushort SqId, ushort CommandId);

    public ushort NextCid() => ++_cid;

    /// <summary>Places an SQE at the queue's tail and rings the tail doorbell (unless ring is false).</summary>
    public ushort Submit(int qid, byte opcode, uint nsid = 0, ulong prp1 = 0, ulong prp2 = 0, uint cdw10 = 0, uint cdw11 = 0,
                         uint cdw12 = 0, uint cdw13 = 0, uint dw0Flags = 0, bool ring = true)
    {
        var q = _sqs[qid];
        ushort cid = NextCid();
        NvmeSubmission.Encode(Ram(q.Base + (ulong)q.Tail * 64, 64), opcode, cid, nsid, prp1, prp2, cdw10, cdw11, cdw12, cdw13, dw0Flags);
        q.Tail = (ushort)((q.Tail + 1) % q.Size);
        _sqs[qid] = q;
        if (ring) RingSq(qid);
        return cid;
    }

    public void RingSq(int qid)
    {
        if (_shadowOn && qid > 0) ShadowRingSq(qid);
        else Write32(NvmeRegisters.DoorbellBase + (ulong)qid * 8, _sqs[qid].Tail);
    }

    /// <summary>Reports a CQ head: by MMIO, or with shadow doorbells through the shadow page (MMIO only if EventIdx asks).</summary>
    public void RingCq(int qid)
    {
        ushort head = _cqs[qid].Head;
        if (_shadowOn && qid > 0)
        {
            uint old = ShadowSlot(ShadowPage, 2 * qid + 1);
            SetShadowSlot(ShadowPage, 2 * qid + 1, head);
            Interlocked.MemoryBarrier();
            if (!ShadowDoorbells.DriverMustRing((ushort)ShadowSlot(EventIdxPage, 2 * qid + 1), head, (ushort)old)) return;
        }
        Write32(NvmeRegisters.DoorbellBase + (ulong)qid * 8 + 4, head);
    }

    private bool _shadowOn;
    public ushort SqTail(int qid) => _sqs[qid].Tail;

    /// <summary>Takes the next completion of a CQ if the phase says one is there, and rings its head doorbell.</summary>
    public bool TryReap(int cqid, out Completion c, bool ring = true)
    {
        var q = _cqs[cqid];
        var e = Ram(q.Base + (ulong)q.Head * 16, 16);
        uint dw3 = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        c = default;
        if (NvmeCompletion.PhaseOf(dw3) != q.Phase) return false;
        uint dw2 = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
        c = new Completion(NvmeCompletion.StatusOf(dw3), BinaryPrimitives.ReadUInt32LittleEndian(e), (ushort)dw2, (ushort)(dw2 >> 16), (ushort)dw3);
        q.Head = (ushort)(q.Head + 1);
        if (q.Head == q.Size) { q.Head = 0; q.Phase = !q.Phase; }
        _cqs[cqid] = q;
        if (ring) RingCq(cqid);
        return true;
    }

    /// <summary>Services until a completion shows up on the CQ (bounded: 10 s).</summary>
    public Completion Wait(int cqid)
    {
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (true)
        {
            Service();
            if (TryReap(cqid, out var c)) return c;
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"no completion on CQ {cqid}");
            Thread.Yield();
        }
    }

    public void Service() => Controller.Processor!.Service();

    /// <summary>Services until the engine is idle (bounded).</summary>
    public void Settle()
    {
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        do { Service(); Thread.Yield(); }
        while (Controller.Processor!.EngineInFlight > 0 && Stopwatch.GetTimestamp() < deadline);
        Service();
    }

    public Completion Admin(byte opcode, uint nsid = 0, ulong prp1 = 0, ulong prp2 = 0, uint cdw10 = 0, uint cdw11 = 0, uint cdw12 = 0,
                            uint cdw13 = 0, uint dw0Flags = 0)
    {
        ushort cid = Submit(0, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12, cdw13, dw0Flags);
        var c = Wait(0);
        if (c.CommandId != cid) throw new InvalidOperationException($"completion for cid {c.CommandId}, want {cid}");
        return c;
    }

    public Completion Io(int qid, byte opcode, uint nsid = NvmeNamespace.Id, ulong prp1 = 0, ulong prp2 = 0, uint cdw10 = 0, uint cdw11 = 0,
                         uint cdw12 = 0, uint cdw13 = 0, uint dw0Flags = 0)
    {
        ushort cid = Submit(qid, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12, cdw13, dw0Flags);
        var c = Wait(_sqs[qid].Cq);
        if (c.CommandId != cid) throw new InvalidOperationException($"completion for cid {c.CommandId}, want {cid}");
        return c;
    }

    public static ulong SqBase(int qid) => 0x20000 + (ulong)qid * 0x10000;
    public static ulong CqBase(int qid) => SqBase(qid) + 0x8000;

    /// <summary>Creates I/O CQ qid then SQ qid on it; returns both statuses.</summary>
    public (ushort Cq, ushort Sq) CreateQueuePair(int qid, ushort entries = 64, ushort vector = 0, bool interrupts = true)
    {
        Ram(SqBase(qid), 0x10000).Clear();
        var cq = Admin(NvmeAdminOpcode.CreateIoCq, prp1: CqBase(qid), cdw10: (uint)qid | ((uint)(entries - 1) << 16),
                       cdw11: 1u | (interrupts ? 2u : 0) | ((uint)vector << 16));
        if (cq.Status == 0) _cqs[qid] = (CqBase(qid), entries, 0, true);
        var sq = Admin(NvmeAdminOpcode.CreateIoSq, prp1: SqBase(qid), cdw10: (uint)qid | ((uint)(entries - 1) << 16), cdw11: 1u | ((uint)qid << 16));
        if (sq.Status == 0) _sqs[qid] = (SqBase(qid), entries, 0, qid);
        return (cq.Status, sq.Status);
    }

    /// <summary>Sets up shadow doorbells; afterwards I/O doorbells go through the shadow page.</summary>
    public ushort ConfigureShadow()
    {
        Ram(ShadowPage, 0x2000).Clear();
        ushort status = Admin(NvmeAdminOpcode.DoorbellBufferConfig, prp1: ShadowPage, prp2: EventIdxPage).Status;
        _shadowOn = status == 0;
        return status;
    }

    public uint ShadowSlot(ulong page, int index) => BinaryPrimitives.ReadUInt32LittleEndian(Ram(page + (ulong)index * 4, 4));
    public void SetShadowSlot(ulong page, int index, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Ram(page + (ulong)index * 4, 4), value);

    /// <summary>Moves an I/O SQ's tail in the shadow page the way Linux does (no MMIO unless EventIdx says so); true if it rang.</summary>
    public bool ShadowRingSq(int qid)
    {
        uint old = ShadowSlot(ShadowPage, 2 * qid);
        ushort tail = _sqs[qid].Tail;
        SetShadowSlot(ShadowPage, 2 * qid, tail);
        Interlocked.MemoryBarrier();
        bool ring = ShadowDoorbells.DriverMustRing((ushort)ShadowSlot(EventIdxPage, 2 * qid), tail, (ushort)old);
        if (ring) Write32(NvmeRegisters.DoorbellBase + (ulong)qid * 8, tail);
        return ring;
    }

    public byte[] FileBytes(long offset, int length)
    {
        using var f = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var b = new byte[length];
        f.Position = offset;
        f.ReadExactly(b);
        return b;
    }

    public void Dispose()
    {
        Controller.Shutdown();
        File.Dispose();
        Memory.Dispose();
        NativeMemory.Free(_block);
        _scratch.Dispose();
    }
}

internal enum DsmModeForTest { Auto, Enable, Disable }
