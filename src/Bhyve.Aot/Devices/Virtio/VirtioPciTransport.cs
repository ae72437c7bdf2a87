using System.Buffers.Binary;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Devices.Virtio;

/// <summary>
/// The virtio 1.x PCI transport, modern only (device ID 0x1040 + type). BAR 0 (64-bit, 32 KiB) holds the
/// common configuration, ISR, device configuration, doorbells (4 bytes apart, caught by ioeventfd) and the
/// MSI-X table and PBA; config space holds the five virtio capabilities and MSI-X.
/// Status, feature negotiation and queue setup follow virtio 1.x §4.1 and §3.1; a reset drains the device
/// before status reads 0.
/// </summary>
public sealed class VirtioPciTransport : PciDevice, IVirtioInterrupts
{
    public const ushort VendorVirtio = 0x1AF4;
    public const ulong BarSize = 0x8000;
    public const uint CommonOffset = 0x0000, IsrOffset = 0x1000, DeviceOffset = 0x2000, NotifyOffset = 0x3000;
    public const uint MsixTableOffset = 0x4000, MsixPbaOffset = 0x6000;
    public const uint NotifyMultiplier = 4;
    private const int CommonLength = 0x40;

    // Device status bits (§2.1).
    public const byte StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFeaturesOk = 8;
    public const byte StatusNeedsReset = 64, StatusFailed = 128;

    private readonly IVirtioDevice _device;
    private readonly GuestMemory _memory;
    private readonly IDoorbellBinder _doorbells;
    private readonly MsiX _msix;
    private readonly EventFd[] _notifiers;
    private readonly QueueRegisters[] _queues;
    private readonly Lock _lock = new();      // registers
    private readonly Lock _lifecycle = new(); // status writes: reset and activation, one at a time
    private readonly int _pciCfgCapability;

    private uint _deviceFeatureSelect, _driverFeatureSelect;
    private ulong _driverFeatures;
    private byte _status;
    private ushort _configVector = MsiX.NoVector;
    private ushort _queueSelect;
    private int _isr;
    private bool _active;

    private struct QueueRegisters
    {
        public ushort Size, Vector, Enable;
        public ulong Desc, Driver, Device;
    }

    public VirtioPciTransport(IVirtioDevice device, GuestMemory memory, IMsiSink msiSink, IDoorbellBinder doorbells)
        : base(new PciConfigSpace(VendorVirtio, (ushort)(0x1040 + device.DeviceType), classCode: 0x01, subClass: 0x80, progIf: 0, revision: 1))
    {
        _device = device;
        _memory = memory;
        _doorbells = doorbells;
        Config.Set16(PciConfigSpace.SubsystemVendorId, VendorVirtio);
        Config.Set16(PciConfigSpace.SubsystemId, 0x40);
        AddBar(new PciBar(0, BarSize, Is64Bit: true));

        int queues = device.QueueCount;
        if (queues * NotifyMultiplier > MsixTableOffset - NotifyOffset) throw new ArgumentOutOfRangeException(nameof(device), "too many queues");
        _notifiers = new EventFd[queues];
        for (int i = 0; i < queues; i++) _notifiers[i] = new EventFd();
        _queues = new QueueRegisters[queues];
        ResetRegisters();

        AddVirtioCapability(cfgType: 1, CommonOffset, CommonLength);
        AddVirtioCapability(cfgType: 2, NotifyOffset, (uint)queues * NotifyMultiplier, extra: NotifyMultiplier);
        AddVirtioCapability(cfgType: 3, IsrOffset, 4);
        AddVirtioCapability(cfgType: 4, DeviceOffset, (uint)Math.Max(device.ConfigSize, 4));
        _pciCfgCapability = AddVirtioCapability(cfgType: 5, 0, 0, extra: 0);
        Config.MakeWritable(_pciCfgCapability + 4, 1, 0xFF);        // bar
        Config.MakeWritable(_pciCfgCapability + 8, 8, ulong.MaxValue); // offset, length
        _msix = new MsiX(Config, queues + 1, tableBar: 0, MsixTableOffset, pbaBar: 0, MsixPbaOffset, msiSink);
    }

    public IVirtioDevice Device => _device;
    public byte Status { get { lock (_lock) return _status; } }

    private int AddVirtioCapability(byte cfgType, uint offset, uint length, uint? extra = null)
    {
        Span<byte> body = stackalloc byte[extra is null ? 14 : 18];
        body.Clear();
        body[0] = (byte)(body.Length + 2); // cap_len
        body[1] = cfgType;
        body[2] = 0;                        // bar
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[10..], length);
        if (extra is uint value) BinaryPrimitives.WriteUInt32LittleEndian(body[14..], value);
        return Config.AddCapability(0x09, body);
    }

    // ---- config space: MSI-X control and the PCI_CFG access window ----

    protected override bool OnConfigWrite(int offset, ReadOnlySpan<byte> data)
    {
        int window = _pciCfgCapability + 16;
        if (offset >= window && offset < window + 4)
        {
            if (PciCfgTarget(out ulong at, out int length) && length == data.Length) BarWrite(0, at, data);
            return true;
        }
        Config.Write(offset, data);
        if (offset <= _msix.CapabilityOffset + 3 && offset + data.Length > _msix.CapabilityOffset + 2) _msix.SyncControl();
        return true;
    }

    protected override bool OnConfigRead(int offset, Span<byte> data)
    {
        int window = _pciCfgCapability + 16;
        if (offset < window || offset >= window + 4) return false;
        if (PciCfgTarget(out ulong at, out int length) && length == data.Length) BarRead(0, at, data);
        else data.Clear();
        return true;
    }

    private bool PciCfgTarget(out ulong offset, out int length)
    {
        offset = Config.Get32(_pciCfgCapability + 8);
        length = (int)Config.Get32(_pciCfgCapability + 12);
        return Config.Get8(_pciCfgCapability + 4) == 0 && length is 1 or 2 or 4 && offset + (ulong)length <= BarSize;
    }

    // ---- BAR 0 ----

    protected override void BarRead(int index, ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset < CommonOffset + CommonLength) ReadCommon((int)offset, data);
        else if (offset >= IsrOffset && offset < IsrOffset + 4) { if (offset == IsrOffset) data[0] = (byte)Interlocked.Exchange(ref _isr, 0); }
        else if (offset >= DeviceOffset && offset < DeviceOffset + (ulong)_device.ConfigSize)
        {
            int at = (int)(offset - DeviceOffset);
            if (at + data.Length <= _device.ConfigSize) _device.ReadConfig(at, data);
        }
        else if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msix.TableBytes) _msix.ReadTable(offset - MsixTableOffset, data);
        else if (offset >= MsixPbaOffset && offset < MsixPbaOffset + (ulong)_msix.PbaBytes) _msix.ReadPba(offset - MsixPbaOffset, data);
    }

    protected override void BarWrite(int index, ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset < CommonOffset + CommonLength) WriteCommon((int)offset, data);
        else if (offset >= DeviceOffset && offset < DeviceOffset + (ulong)_device.ConfigSize)
        {
            int at = (int)(offset - DeviceOffset);
            if (at + data.Length <= _device.ConfigSize) _device.WriteConfig(at, data);
        }
        else if (offset >= NotifyOffset && offset < NotifyOffset + (ulong)(_notifiers.Length * NotifyMultiplier))
        {
            // A doorbell KVM did not catch (odd width, or before the ioeventfd was bound): ring it ourselves.
            _notifiers[(offset - NotifyOffset) / NotifyMultiplier].Signal();
        }
        else if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msix.TableBytes) _msix.WriteTable(offset - MsixTableOffset, data);
    }

    protected override void OnBarMapped(int index, ulong address)
    {
        for (int q = 0; q < _notifiers.Length; q++) _doorbells.Bind(address + NotifyOffset + (ulong)q * NotifyMultiplier, 2, _notifiers[q]);
    }

    protected override void OnBarUnmapped(int index, ulong address)
    {
        for (int q = 0; q < _notifiers.Length; q++) _doorbells.Unbind(address + NotifyOffset + (ulong)q * NotifyMultiplier, 2, _notifiers[q]);
    }

    // ---- common configuration (§4.1.4.3) ----

    private void ReadCommon(int offset, Span<byte> data)
    {
        Span<byte> image = stackalloc byte[CommonLength];
        lock (_lock)
        {
            ref var q = ref SelectedQueue(out bool valid);
            BinaryPrimitives.WriteUInt32LittleEndian(image[0x00..], _deviceFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(image[0x04..], _deviceFeatureSelect < 2 ? (uint)(_device.DeviceFeatures >> (int)(32 * _deviceFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt32LittleEndian(image[0x08..], _driverFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(image[0x0C..], _driverFeatureSelect < 2 ? (uint)(_driverFeatures >> (int)(32 * _driverFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(image[0x10..], _configVector);
            BinaryPrimitives.WriteUInt16LittleEndian(image[0x12..], (ushort)_queues.Length);
            image[0x14] = _status;
            image[0x15] = 0; // config_generation: our device configuration never changes at run time
            BinaryPrimitives.WriteUInt16LittleEndian(image[0x16..], _queueSelect);
            if (valid)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(image[0x18..], q.Size);
                BinaryPrimitives.WriteUInt16LittleEndian(image[0x1A..], q.Vector);
                BinaryPrimitives.WriteUInt16LittleEndian(image[0x1C..], q.Enable);
                BinaryPrimitives.WriteUInt16LittleEndian(image[0x1E..], _queueSelect);
                BinaryPrimitives.WriteUInt64LittleEndian(image[0x20..], q.Desc);
                BinaryPrimitives.WriteUInt64LittleEndian(image[0x28..], q.Driver);
                BinaryPrimitives.WriteUInt64LittleEndian(image[0x30..], q.Device);
            }
        }
        if (offset + data.Length <= CommonLength) image.Slice(offset, data.Length).CopyTo(data);
    }

    private void WriteCommon(int offset, ReadOnlySpan<byte> data)
    {
        ulong value = data.Length switch
        {
            1 => data[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(data),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(data),
            _ => 0,
        };
        if (offset == 0x14 && data.Length == 1) { WriteStatus((byte)value); return; }
        lock (_lock)
        {
            ref var q = ref SelectedQueue(out bool valid);
            bool queueLocked = !valid || q.Enable != 0 || _active; // §4.1.4.3.2: no changes once enabled
            switch (offset)
            {
                case 0x00: _deviceFeatureSelect = (uint)value; break;
                case 0x08: _driverFeatureSelect = (uint)value; break;
                case 0x0C when (_status & StatusFeaturesOk) == 0 && _driverFeatureSelect < 2:
                    int shift = (int)(32 * _driverFeatureSelect);
                    _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((value & 0xFFFF_FFFF) << shift);
                    break;
                case 0x10: _configVector = ValidVector(value); break;
                case 0x16: _queueSelect = (ushort)value; break;
                case 0x18 when !queueLocked: q.Size = (ushort)value; break;
                case 0x1A when valid: q.Vector = ValidVector(value); break;
                case 0x1C when valid && value == 1: q.Enable = 1; break;
                case 0x20 when !queueLocked: q.Desc = Merge(q.Desc, value, 0, data.Length); break;
                case 0x24 when !queueLocked: q.Desc = Merge(q.Desc, value, 32, data.Length); break;
                case 0x28 when !queueLocked: q.Driver = Merge(q.Driver, value, 0, data.Length); break;
                case 0x2C when !queueLocked: q.Driver = Merge(q.Driver, value, 32, data.Length); break;
                case 0x30 when !queueLocked: q.Device = Merge(q.Device, value, 0, data.Length); break;
                case 0x34 when !queueLocked: q.Device = Merge(q.Device, value, 32, data.Length); break;
            }
        }
    }

    private ushort ValidVector(ulong value) => value < (ulong)_msix.VectorCount ? (ushort)value : MsiX.NoVector;

    private static ulong Merge(ulong current, ulong value, int shift, int length) =>
        length == 8 && shift == 0 ? value : (current & ~(0xFFFF_FFFFUL << shift)) | ((value & 0xFFFF_FFFF) << shift);

    private ref QueueRegisters SelectedQueue(out bool valid)
    {
        valid = _queueSelect < _queues.Length;
        return ref _queues[valid ? _queueSelect : 0];
    }

    // ---- status state machine (§2.1, §3.1) ----

    /// <summary>
    /// Status writes run one at a time under _lifecycle, so a reset and an activation never interleave: a reset
    /// stops the device's workers and waits for the kernel to finish with guest memory before status reads 0, and
    /// a device is activated at most once per DRIVER_OK (a second DRIVER_OK without a reset does nothing).
    /// _lock (registers) is never held while the device starts or stops, so a worker may raise NEEDS_RESET meanwhile.
    /// </summary>
    private void WriteStatus(byte value)
    {
        lock (_lifecycle)
        {
            if (value == 0)
            {
                // Drain first, then forget: the driver waits until it reads 0, so in-flight I/O never lands after it.
                _device.Reset();
                lock (_lock)
                {
                    _active = false;
                    ResetRegisters();
                }
                return;
            }
            VirtioActivation? activation = null;
            bool needsResetRaised;
            lock (_lock)
            {
                byte added = (byte)(value & ~_status);
                byte next = (byte)(value | (_status & StatusNeedsReset));
                if ((added & StatusFeaturesOk) != 0 && !FeaturesAcceptable()) next &= unchecked((byte)~StatusFeaturesOk);
                string? refusal = null;
                if ((added & StatusDriverOk) != 0 && !_active && (next & StatusFeaturesOk) != 0 && (next & StatusNeedsReset) == 0)
                    activation = BuildActivation(ref next, out refusal);
                bool refused = (added & StatusDriverOk) != 0 && (next & StatusNeedsReset) != 0 && (_status & StatusNeedsReset) == 0;
                _status = next;
                if (activation is not null) _active = true;
                if (refused) LastError = refusal ?? "a queue's ring geometry was unusable at DRIVER_OK";
                needsResetRaised = refused;
            }
            if (needsResetRaised) ConfigChanged();
            if (activation is null) return;
            try
            {
                _device.Activate(activation);
            }
            catch (Exception e)
            {
                // A host failure starting the device (io_uring setup, eventfd, thread): the guest sees NEEDS_RESET.
                _device.Reset();
                MarkNeedsReset("the device could not start: " + e.Message);
            }
        }
    }

    private bool FeaturesAcceptable() =>
        (_driverFeatures & ~_device.DeviceFeatures) == 0 && (_driverFeatures & (1UL << VirtioFeatures.Version1)) != 0;

    private VirtioActivation? BuildActivation(ref byte status, out string? refusal)
    {
        refusal = null;
        bool eventIdx = (_driverFeatures & (1UL << VirtioFeatures.EventIdx)) != 0;
        var queues = new SplitVirtqueue?[_queues.Length];
        for (int i = 0; i < _queues.Length; i++)
        {
            if (_queues[i].Enable == 0) continue;
            if (_queues[i].Size > _device.MaxQueueSize)
            {
                refusal = $"queue {i} size {_queues[i].Size} is above the device's maximum {_device.MaxQueueSize}";
                status |= StatusNeedsReset;
                return null;
            }
            queues[i] = SplitVirtqueue.TryCreate(_memory, _queues[i].Size, _queues[i].Desc, _queues[i].Driver, _queues[i].Device, eventIdx, out refusal);
            if (queues[i] is null)
            {
                status |= StatusNeedsReset;
                return null;
            }
        }
        return new VirtioActivation(_memory, _driverFeatures, queues, _notifiers, this, MarkNeedsReset);
    }

    private void ResetRegisters()
    {
        _status = 0;
        _driverFeatures = 0;
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        _configVector = MsiX.NoVector;
        _queueSelect = 0;
        Interlocked.Exchange(ref _isr, 0);
        for (int i = 0; i < _queues.Length; i++)
            _queues[i] = new QueueRegisters { Size = _device.MaxQueueSize, Vector = MsiX.NoVector };
    }

    /// <summary>Ring corruption: DEVICE_NEEDS_RESET and a configuration interrupt, until the driver resets us.</summary>
    private void MarkNeedsReset(string reason)
    {
        lock (_lock)
        {
            if ((_status & StatusNeedsReset) != 0) return;
            _status |= StatusNeedsReset;
            LastError = reason;
        }
        ConfigChanged();
    }

    /// <summary>Why the device last asked for a reset (for diagnostics and tests).</summary>
    public string? LastError { get; private set; }

    // ---- interrupts ----

    public void Queue(int queue)
    {
        Interlocked.Or(ref _isr, 1);
        _msix.Signal(Volatile.Read(ref _queues[queue].Vector));
    }

    public void ConfigChanged()
    {
        Interlocked.Or(ref _isr, 2);
        _msix.Signal(_configVector);
    }
}
