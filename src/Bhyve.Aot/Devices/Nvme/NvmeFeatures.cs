namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// Get/Set Features state (NVMe 1.4 §5.21.1). Nothing is saveable. Reset by a controller reset (a new instance).
/// Number of Queues may be set once, before any I/O queue exists; Volatile Write Cache decides whether writes run
/// write-through (FUA); the others are stored and reported back, which is all a guest can observe of them.
/// </summary>
public sealed class NvmeFeatures(int maxIoQueues, int interruptVectors)
{
    public const byte Arbitration = 0x01, PowerManagement = 0x02, TemperatureThreshold = 0x04, ErrorRecovery = 0x05;
    public const byte VolatileWriteCache = 0x06, NumberOfQueues = 0x07, InterruptCoalescing = 0x08;
    public const byte InterruptVectorConfig = 0x09, WriteAtomicity = 0x0A, AsyncEventConfig = 0x0B;
    public const byte AsyncEventLimit = 3; // AERL, 0-based: four outstanding Asynchronous Event Requests
    private const uint ArbitrationDefault = 7, TemperatureDefault = 0x0157;
    private const uint AsyncEventSupported = 0xFF | (1 << 8) | (1 << 9);
    private const uint SelectCurrent = 0, SelectDefault = 1, SelectSaved = 2, SelectCapabilities = 3;
    private const uint CapabilityNamespaceSpecific = 2, CapabilityChangeable = 4;

    private uint _arbitration = ArbitrationDefault, _power, _temperature = TemperatureDefault, _errorRecovery;
    private uint _coalescing, _atomicity, _asyncEvents;
    private readonly uint[] _vectorConfig = NewVectorConfig(interruptVectors);
    private readonly int _maxIoQueues = maxIoQueues;
    private bool _queuesSet;

    /// <summary>I/O SQs and CQs the guest may create (0-based in the feature, counts here).</summary>
    public int AllocatedSqs { get; private set; } = maxIoQueues;
    public int AllocatedCqs { get; private set; } = maxIoQueues;
    public bool WriteCacheEnabled { get; private set; } = true;

    private static uint[] NewVectorConfig(int vectors)
    {
        var v = new uint[vectors];
        for (int i = 0; i < vectors; i++) v[i] = (uint)i;
        return v;
    }

    public ushort Get(in NvmeSubmission c, out uint result)
    {
        result = 0;
        byte fid = (byte)c.Cdw10;
        uint select = (c.Cdw10 >> 8) & 7;
        if (select > SelectCapabilities) return NvmeStatus.InvalidField;
        if (!Known(fid)) return NvmeStatus.InvalidField;
        if (select == SelectCapabilities)
        {
            result = (fid == ErrorRecovery ? CapabilityNamespaceSpecific : 0) | (fid == NumberOfQueues ? 0 : CapabilityChangeable);
            return NvmeStatus.Success;
        }
        bool current = select is SelectCurrent;
        result = fid switch
        {
            Arbitration => current ? _arbitration : ArbitrationDefault,
            PowerManagement => current ? _power : 0,
            TemperatureThreshold => current ? _temperature : TemperatureDefault,
            ErrorRecovery => current ? _errorRecovery : 0,
            VolatileWriteCache => current ? (WriteCacheEnabled ? 1u : 0) : 1,
            NumberOfQueues => (uint)(AllocatedSqs - 1) | ((uint)(AllocatedCqs - 1) << 16),
            InterruptCoalescing => current ? _coalescing : 0,
            WriteAtomicity => current ? _atomicity : 0,
            AsyncEventConfig => current ? _asyncEvents : 0,
            _ => 0,
        };
        if (fid == InterruptVectorConfig)
        {
            uint iv = c.Cdw11 & 0xFFFF;
            if (iv >= (uint)_vectorConfig.Length) return NvmeStatus.InvalidField;
            result = current ? _vectorConfig[iv] : iv;
        }
        _ = select == SelectSaved; // saved values are the defaults: nothing is saveable
        return NvmeStatus.Success;
    }

    /// <param name="ioQueuesExist">an I/O queue was created since the last reset (Number of Queues is then fixed)</param>
    public ushort Set(in NvmeSubmission c, bool ioQueuesExist, out uint result)
    {
        result = 0;
        byte fid = (byte)c.Cdw10;
        if (!Known(fid)) return NvmeStatus.InvalidField;
        if ((c.Cdw10 & (1u << 31)) != 0) return NvmeStatus.FeatureNotSaveable;
        if (fid != ErrorRecovery && c.Nsid != 0 && c.Nsid != 0xFFFF_FFFF) return NvmeStatus.FeatureNotNamespaceSpecific;
        uint v = c.Cdw11;
        switch (fid)
        {
            case Arbitration: _arbitration = v; break;
            case PowerManagement:
                if ((v & 0x1F) != 0) return NvmeStatus.InvalidField; // only power state 0 exists (NPSS = 0)
                _power = v & 0xFF;
                break;
            case TemperatureThreshold: _temperature = v; break;
            case ErrorRecovery: _errorRecovery = v; break;
            case VolatileWriteCache: WriteCacheEnabled = (v & 1) != 0; break;
            case NumberOfQueues:
                if (ioQueuesExist || _queuesSet) return NvmeStatus.CommandSequenceError;
                uint sqs = v & 0xFFFF, cqs = v >> 16;
                if (sqs == 0xFFFF || cqs == 0xFFFF) return NvmeStatus.InvalidField;
                AllocatedSqs = (int)Math.Min(sqs + 1, (uint)_maxIoQueues);
                AllocatedCqs = (int)Math.Min(cqs + 1, (uint)_maxIoQueues);
                _queuesSet = true;
                result = (uint)(AllocatedSqs - 1) | ((uint)(AllocatedCqs - 1) << 16);
                break;
            case InterruptCoalescing: _coalescing = v & 0xFFFF; break;
            case InterruptVectorConfig:
                uint iv = v & 0xFFFF;
                if (iv >= (uint)_vectorConfig.Length) return NvmeStatus.InvalidField;
                if (iv == 0 && (v & (1u << 16)) != 0) return NvmeStatus.InvalidField; // the admin vector always interrupts
                _vectorConfig[iv] = v & 0x1FFFF;
                break;
            case WriteAtomicity: _atomicity = v & 1; break;
            case AsyncEventConfig:
                if ((v & ~AsyncEventSupported) != 0) return NvmeStatus.InvalidField;
                _asyncEvents = v;
                break;
        }
        return NvmeStatus.Success;
    }

    private static bool Known(byte fid) => fid is Arbitration or PowerManagement or TemperatureThreshold or ErrorRecovery
        or VolatileWriteCache or NumberOfQueues or InterruptCoalescing or InterruptVectorConfig or WriteAtomicity or AsyncEventConfig;
}
