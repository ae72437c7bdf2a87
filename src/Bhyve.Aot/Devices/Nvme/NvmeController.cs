using System.Buffers.Binary;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// An NVMe 1.4 controller as a PCI function (class 01/08/02) with one namespace. BAR0 (64-bit, 16 KiB) holds the
/// registers at 0, the doorbells at 0x1000, the MSI-X table at 0x2000 and the PBA at 0x3000; config space has a
/// PCI Express capability (root-complex integrated endpoint) and MSI-X with one vector per possible CQ.
///
/// The enable/reset/shutdown state machine (§7.6) runs here on vCPU threads under one lock; the queues live in a
/// NvmeQueueProcessor thread created at enable (CC.EN 0→1, after validating the admin queues; CSTS.CFS if they
/// are unusable) and stopped at reset (CC.EN 1→0: in-flight I/O drains, nothing more is posted, queues, features,
/// AERs and the shadow-doorbell registration are forgotten, and CSTS.RDY clears last). A shutdown (CC.SHN) lets
/// running commands finish, flushes the backend, and only then reports CSTS.SHST complete; a failed shutdown flush
/// (or a flush error latched on the backend earlier) also sets CSTS.CFS, so the guest learns its data may be lost.
/// A controller reset forgets the backend's latched flush error.
/// Doorbell writes by MMIO store the value and kick the processor; no lock is taken on that path.
/// </summary>
public sealed class NvmeController : PciDevice
{
    public const ushort Vendor = 0xFB5D, Device = 0x0A0A; // bhyve's own IDs: no Linux quirks keyed on them
    public const ulong BarSize = 0x4000;
    public const uint MsixTableOffset = 0x2000, MsixPbaOffset = 0x3000;
    public const int TimeoutHalfSeconds = 30; // CAP.TO: 15 s for RDY transitions (a reset waits for in-flight I/O)
    private const int RegisterBytes = 0x38;
    private const uint LatchedWhileEnabled = 0x3FF0; // CC.CSS, MPS, AMS: fixed while EN = 1

    private readonly GuestMemory _memory;
    private readonly NvmeNamespace _ns;
    private readonly NvmeIdentity _identity;
    private readonly Func<IBlockEngine> _createEngine;
    private readonly IBlockBackendControl _backend;
    private readonly IDoorbellBinder _binder;
    private readonly MsiX _msix;
    private readonly int _maxIoQueues, _maxEntries;
    private readonly bool _startThreads;
    private readonly ulong _cap;
    private readonly NvmeDoorbellValues _doorbells;
    private readonly EventFd _kick = new(), _ioeventfd = new();
    private readonly Lock _lock = new();     // register writes and the state machine
    private readonly Lock _bindLock = new(); // shadow-doorbell ioeventfds (the processor and BAR moves both change them)
    private NvmeQueueProcessor? _processor;
    private NvmeCounters _retired;
    private long _mmioDoorbells;
    private uint _cc, _aqa, _intms;
    private ulong _asq, _acq;
    private int _csts;
    private ulong _boundAt; // BAR address whose I/O doorbells are ioeventfds, 0 when none

    public NvmeController(NvmeNamespace ns, NvmeIdentity identity, int maxIoQueues, int maxQueueEntries, GuestMemory memory,
                          IMsiSink msiSink, IDoorbellBinder binder, Func<IBlockEngine> createEngine, IBlockBackendControl backend,
                          bool startThreads = true)
        : base(new PciConfigSpace(Vendor, Device, classCode: 0x01, subClass: 0x08, progIf: 0x02))
    {
        if (maxIoQueues is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(maxIoQueues));
        // The model's own limit (16-bit queue sizes), not only the front ends' caps.
        if (maxQueueEntries is < 2 or > NvmeQueueLimits.MaxEntries) throw new ArgumentOutOfRangeException(nameof(maxQueueEntries));
        _ns = ns;
        _identity = identity;
        _memory = memory;
        _binder = binder;
        _createEngine = createEngine;
        _backend = backend;
        _maxIoQueues = maxIoQueues;
        _maxEntries = maxQueueEntries;
        _startThreads = startThreads;
        _cap = NvmeRegisters.Capabilities(maxQueueEntries, TimeoutHalfSeconds);
        _doorbells = new NvmeDoorbellValues(maxIoQueues + 1);
        Config.Set16(PciConfigSpace.SubsystemVendorId, Vendor);
        Config.Set16(PciConfigSpace.SubsystemId, Device);
        AddBar(new PciBar(0, BarSize, Is64Bit: true));
        AddPciExpressCapability();
        _msix = new MsiX(Config, maxIoQueues + 1, tableBar: 0, MsixTableOffset, pbaBar: 0, MsixPbaOffset, msiSink);
    }

    public NvmeNamespace Namespace => _ns;
    public uint Status => (uint)Volatile.Read(ref _csts);
    internal NvmeQueueProcessor? Processor => Volatile.Read(ref _processor);
    internal MsiX MsiX => _msix;

    /// <summary>Everything counted since the VM started, across resets.</summary>
    public NvmeCounters Counters
    {
        get
        {
            NvmeCounters sum;
            lock (_lock)
            {
                sum = _retired;
                if (_processor is { } p)
                {
                    var c = p.Counters;
                    c.Faults += p.Faults;
                    sum.Add(c);
                }
            }
            sum.MmioDoorbells += Interlocked.Read(ref _mmioDoorbells);
            return sum;
        }
    }

    private void AddPciExpressCapability()
    {
        // PCIe capability structure, version 2, device/port type 1001b (root complex integrated endpoint, as bhyve):
        // no link registers to emulate, max payload 128 bytes, no FLR.
        Span<byte> body = stackalloc byte[58];
        body.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(body, 0x0092);
        Config.AddCapability(0x10, body);
    }

    // ---- config space: MSI-X control ----

    protected override bool OnConfigWrite(int offset, ReadOnlySpan<byte> data)
    {
        Config.Write(offset, data);
        if (offset <= _msix.CapabilityOffset + 3 && offset + data.Length > _msix.CapabilityOffset + 2) _msix.SyncControl();
        return true;
    }

    // ---- BAR 0 ----

    protected override void BarRead(int index, ulong offset, Span<byte> data) => RegisterRead(offset, data);
    protected override void BarWrite(int index, ulong offset, ReadOnlySpan<byte> data) => RegisterWrite(offset, data);

    /// <summary>A guest read of BAR0 (the MMIO exit path; tests call it directly).</summary>
    internal void RegisterRead(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msix.TableBytes) { _msix.ReadTable(offset - MsixTableOffset, data); return; }
        if (offset >= MsixPbaOffset && offset < MsixPbaOffset + (ulong)_msix.PbaBytes) { _msix.ReadPba(offset - MsixPbaOffset, data); return; }
        // Registers: naturally aligned dword or qword reads; everything else (reserved space, doorbells) reads 0.
        if (offset + (ulong)data.Length > RegisterBytes || data.Length is not (4 or 8) || (offset & (ulong)(data.Length - 1)) != 0) return;
        Span<byte> image = stackalloc byte[RegisterBytes];
        lock (_lock)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image[NvmeRegisters.Cap..], _cap);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Version..], NvmeRegisters.Version14);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Intms..], _intms);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Intmc..], _intms);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Cc..], _cc);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Csts..], Status);
            BinaryPrimitives.WriteUInt32LittleEndian(image[NvmeRegisters.Aqa..], _aqa);
            BinaryPrimitives.WriteUInt64LittleEndian(image[NvmeRegisters.Asq..], _asq);
            BinaryPrimitives.WriteUInt64LittleEndian(image[NvmeRegisters.Acq..], _acq);
        }
        image.Slice((int)offset, data.Length).CopyTo(data);
    }

    /// <summary>A guest write to BAR0 (the MMIO exit path; tests call it directly).</summary>
    internal void RegisterWrite(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msix.TableBytes) { _msix.WriteTable(offset - MsixTableOffset, data); return; }
        // Sub-dword and misaligned writes are ignored (as bhyve does): every register is a dword or a qword.
        if (data.Length is not (4 or 8) || (offset & (ulong)(data.Length - 1)) != 0) return;
        if (offset >= NvmeRegisters.DoorbellBase) { Doorbell(offset - NvmeRegisters.DoorbellBase, data); return; }
        if (offset + (ulong)data.Length > RegisterBytes) return;
        ulong value = data.Length == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(data) : BinaryPrimitives.ReadUInt32LittleEndian(data);
        lock (_lock)
        {
            // A qword write is two dword writes, low first.
            WriteDword((int)offset, (uint)value);
            if (data.Length == 8) WriteDword((int)offset + 4, (uint)(value >> 32));
        }
    }

    private void WriteDword(int offset, uint value)
    {
        switch (offset)
        {
            case NvmeRegisters.Intms: _intms |= value; break;  // no effect on MSI-X (undefined there), kept for reads
            case NvmeRegisters.Intmc: _intms &= ~value; break;
            case NvmeRegisters.Cc: WriteCc(value); break;
            case NvmeRegisters.Aqa: _aqa = value & 0x0FFF_0FFF; break;
            case NvmeRegisters.Asq: _asq = (_asq & 0xFFFF_FFFF_0000_0000) | value; break;
            case NvmeRegisters.Asq + 4: _asq = (_asq & 0xFFFF_FFFF) | ((ulong)value << 32); break;
            case NvmeRegisters.Acq: _acq = (_acq & 0xFFFF_FFFF_0000_0000) | value; break;
            case NvmeRegisters.Acq + 4: _acq = (_acq & 0xFFFF_FFFF) | ((ulong)value << 32); break;
            // CAP, VS and CSTS are read-only; NSSR does nothing (CAP.NSSRS = 0).
        }
    }

    /// <summary>
    /// SQ y tail at 8y, CQ y head at 8y + 4. Ignored before RDY and for queue ids we never have; the value itself is
    /// validated by the processor against the queue it finds (a doorbell can race a queue's creation or deletion).
    /// </summary>
    private void Doorbell(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != 4) return;
        ulong index = offset / NvmeRegisters.DoorbellStride;
        ulong qid = index / 2;
        if (qid > (ulong)_maxIoQueues || (Status & NvmeRegisters.CstsReady) == 0) return;
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if ((index & 1) == 0) Volatile.Write(ref _doorbells.SqTail[qid], value);
        else Volatile.Write(ref _doorbells.CqHead[qid], value);
        Interlocked.Increment(ref _mmioDoorbells);
        _kick.Signal();
    }

    // ---- the state machine ----

    private void WriteCc(uint value)
    {
        uint old = _cc;
        bool wasEnabled = (old & NvmeRegisters.CcEnable) != 0, enable = (value & NvmeRegisters.CcEnable) != 0;
        // CSS, MPS and AMS take effect while disabled and on the write that enables; the rest always.
        _cc = wasEnabled ? (old & LatchedWhileEnabled) | (value & ~LatchedWhileEnabled) : value;
        if (wasEnabled && !enable) Reset();
        else if (!wasEnabled && enable) Enable();
        int shn = NvmeRegisters.CcShn(value), oldShn = NvmeRegisters.CcShn(old);
        if (shn != 0 && oldShn == 0) BeginShutdown();
        else if (shn == 0 && oldShn != 0) UpdateStatus(NvmeRegisters.CstsShutdownMask, 0);
    }

    // SAFETY: the admin rings come from TryTranslate of their whole size (entries * 64 and * 16 bytes) before anything uses them
    private unsafe void Enable()
    {
        int sqEntries = NvmeRegisters.AdminSqEntries(_aqa), cqEntries = NvmeRegisters.AdminCqEntries(_aqa);
        const ulong PageMask = NvmeRegisters.PageSize - 1;
        bool valid = (_asq & PageMask) == 0 && (_acq & PageMask) == 0
                     && NvmeRegisters.CcCss(_cc) == 0 && NvmeRegisters.CcMps(_cc) == 0 && NvmeRegisters.CcAms(_cc) == 0
                     && sqEntries >= 2 && cqEntries >= 2 && (Status & NvmeRegisters.CstsFatal) == 0;
        byte* sq = null, cq = null;
        valid = valid && _memory.TryTranslate(_asq, (ulong)sqEntries * NvmeSubmission.Size, out sq)
                      && _memory.TryTranslate(_acq, (ulong)cqEntries * NvmeCompletion.Size, out cq);
        IBlockEngine? engine = null;
        if (valid)
        {
            try { engine = _createEngine(); }
            catch (Exception e) when (e is IoUring.IoUringException or BlockFileException or Os.ErrnoException) { engine = null; }
        }
        if (engine is null)
        {
            // The guest learns it through CSTS.CFS and has to reset us; RDY stays 0.
            UpdateStatus(NvmeRegisters.CstsFatal, NvmeRegisters.CstsFatal);
            return;
        }
        _doorbells.Clear();
        var admin = new NvmeQueueProcessor.AdminQueues(sq, (ushort)sqEntries, cq, (ushort)cqEntries);
        var processor = new NvmeQueueProcessor(this, _memory, _ns, _identity, engine, _msix, _doorbells, _kick, _ioeventfd,
                                               _maxIoQueues, _maxEntries, admin, _cc);
        Volatile.Write(ref _processor, processor);
        if (_startThreads) processor.Start();
        UpdateStatus(NvmeRegisters.CstsReady, NvmeRegisters.CstsReady);
    }

    /// <summary>Controller reset: stop and drain the processor first, forget everything, clear CSTS last.</summary>
    private void Reset()
    {
        if (_processor is { } p)
        {
            p.Stop();
            var c = p.Counters;
            c.Faults += p.Faults;
            _retired.Add(c);
            Volatile.Write(ref _processor, null);
        }
        UnbindShadowDoorbells();
        _doorbells.Clear();
        _kick.Drain();
        _ioeventfd.Drain();
        _intms = 0;
        _backend.ClearFlushError();
        Volatile.Write(ref _csts, 0);
    }

    private void BeginShutdown()
    {
        if (_processor is { } p)
        {
            UpdateStatus(NvmeRegisters.CstsShutdownMask, NvmeRegisters.CstsShutdownProcessing);
            p.RequestShutdown();
            return;
        }
        // Not enabled: nothing is running, but writes of an earlier enable may still sit in the host cache.
        ShutdownComplete(_backend.Flush());
    }

    /// <summary>The processor's worker caught a failure and stopped serving (its thread): the guest sees CSTS.CFS.</summary>
    internal void WorkerFailed() => UpdateStatus(NvmeRegisters.CstsFatal, NvmeRegisters.CstsFatal);

    /// <summary>
    /// The shutdown flush finished with result (0 or -errno; the processor calls it on its thread). SHST reads
    /// complete either way, so the guest does not wait out CAP.TO; a failure also sets CFS.
    /// </summary>
    internal void ShutdownComplete(int result) =>
        UpdateStatus(NvmeRegisters.CstsShutdownMask | (result < 0 ? NvmeRegisters.CstsFatal : 0),
                     NvmeRegisters.CstsShutdownComplete | (result < 0 ? NvmeRegisters.CstsFatal : 0));

    private void UpdateStatus(uint mask, uint bits)
    {
        int old, updated;
        do
        {
            old = Volatile.Read(ref _csts);
            updated = (int)(((uint)old & ~mask) | bits);
        } while (Interlocked.CompareExchange(ref _csts, updated, old) != old);
    }

    // ---- shadow doorbells: I/O queue doorbells become ioeventfds ----

    /// <summary>Doorbell Buffer Config succeeded (processor thread): stop exiting on I/O queue doorbells.</summary>
    internal void BindShadowDoorbells()
    {
        lock (_bindLock)
        {
            if (_boundAt != 0) return;
            _shadowWanted = true;
            ulong bar = MappedBar;
            if (bar != 0) BindAt(bar);
        }
    }

    private bool _shadowWanted;
    private ulong _mappedBar;
    private ulong MappedBar => Volatile.Read(ref _mappedBar);

    private void BindAt(ulong bar)
    {
        for (int q = 1; q <= _maxIoQueues; q++)
        {
            ulong sq = bar + NvmeRegisters.DoorbellBase + (ulong)(2 * q) * NvmeRegisters.DoorbellStride;
            _binder.Bind(sq, 4, _ioeventfd);
            _binder.Bind(sq + NvmeRegisters.DoorbellStride, 4, _ioeventfd);
        }
        _boundAt = bar;
    }

    private void UnbindAt(ulong bar)
    {
        for (int q = 1; q <= _maxIoQueues; q++)
        {
            ulong sq = bar + NvmeRegisters.DoorbellBase + (ulong)(2 * q) * NvmeRegisters.DoorbellStride;
            _binder.Unbind(sq, 4, _ioeventfd);
            _binder.Unbind(sq + NvmeRegisters.DoorbellStride, 4, _ioeventfd);
        }
        _boundAt = 0;
    }

    private void UnbindShadowDoorbells()
    {
        lock (_bindLock)
        {
            _shadowWanted = false;
            if (_boundAt != 0) UnbindAt(_boundAt);
        }
    }

    protected override void OnBarMapped(int index, ulong address)
    {
        lock (_bindLock)
        {
            Volatile.Write(ref _mappedBar, address);
            if (_shadowWanted && _boundAt == 0) BindAt(address);
        }
    }

    protected override void OnBarUnmapped(int index, ulong address)
    {
        lock (_bindLock)
        {
            Volatile.Write(ref _mappedBar, 0);
            if (_boundAt != 0) UnbindAt(_boundAt);
        }
    }

    /// <summary>Stops the processor at VM exit (draining what the kernel holds).</summary>
    public void Shutdown()
    {
        lock (_lock) Reset();
    }
}
