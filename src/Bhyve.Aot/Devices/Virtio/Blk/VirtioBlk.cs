using System.Buffers.Binary;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Virtio.Blk;

/// <summary>
/// The virtio-blk device model: features, the virtio_blk_config space, and one I/O thread per queue
/// (VirtioBlkQueue), each with its own block engine over the shared backing file.
/// </summary>
public sealed class VirtioBlk : IVirtioDevice
{
    public const int FeatureSizeMax = 1, FeatureSegMax = 2, FeatureRo = 5, FeatureBlkSize = 6, FeatureFlush = 9;
    public const int FeatureTopology = 10, FeatureMq = 12, FeatureDiscard = 13, FeatureWriteZeroes = 14;
    public const int ConfigLength = 0x3C;

    private readonly VirtioBlkDisk _disk;
    private readonly Func<IBlockEngine> _createEngine;
    private readonly IBlockBackendControl? _backend;
    private readonly int _queueCount;
    private readonly ushort _queueSize;
    private readonly int _maxSegments;
    private readonly byte[] _config = new byte[ConfigLength];
    private readonly Lock _lock = new();
    private VirtioBlkQueue[] _running = [];
    private VirtioQueueCounters _retired;

    /// <param name="backend">reset forgets its latched flush error (the guest was told and starts over).</param>
    public VirtioBlk(VirtioBlkDisk disk, int queues, ushort queueSize, int maxSegments, Func<IBlockEngine> createEngine,
                     IBlockBackendControl? backend = null)
    {
        _disk = disk;
        _createEngine = createEngine;
        _backend = backend;
        _queueCount = queues;
        _queueSize = queueSize;
        _maxSegments = maxSegments;
        DeviceFeatures = Bit(VirtioFeatures.Version1) | Bit(VirtioFeatures.EventIdx) | Bit(VirtioFeatures.IndirectDesc)
                       | Bit(FeatureFlush) | Bit(FeatureBlkSize) | Bit(FeatureSegMax) | Bit(FeatureTopology)
                       | (disk.ReadOnly ? Bit(FeatureRo) : 0)
                       | (disk.Discard && !disk.ReadOnly ? Bit(FeatureDiscard) : 0)
                       | (disk.WriteZeroes && !disk.ReadOnly ? Bit(FeatureWriteZeroes) : 0)
                       | (queues > 1 ? Bit(FeatureMq) : 0);
        var c = _config.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(c[0x00..], disk.CapacitySectors);
        // seg_max counts data segments only; the header and status take two more descriptors.
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x0C..], (uint)Math.Min(maxSegments, queueSize - 2));
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x14..], disk.BlockSize);
        c[0x18] = 0;                                                   // physical_block_exp
        BinaryPrimitives.WriteUInt16LittleEndian(c[0x1A..], 1);        // min_io_size (blocks)
        BinaryPrimitives.WriteUInt16LittleEndian(c[0x22..], (ushort)queues);
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x24..], VirtioBlkDisk.MaxDiscardSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x28..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x2C..], VirtioBlkDisk.DiscardSectorAlignment);
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x30..], VirtioBlkDisk.MaxWriteZeroesSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[0x34..], 1);
        c[0x38] = disk.WriteZeroesMayUnmap ? (byte)1 : (byte)0;
    }

    public ushort DeviceType => 2;
    public ulong DeviceFeatures { get; }
    public int QueueCount => _queueCount;
    public ushort MaxQueueSize => _queueSize;
    public int ConfigSize => ConfigLength;

    /// <summary>Counters of all running queues, summed.</summary>
    public VirtioQueueCounters Counters
    {
        get
        {
            var sum = _retired;
            foreach (var q in Volatile.Read(ref _running))
            {
                var c = q.Counters;
                c.Faults += q.Faults;
                sum.Add(c);
            }
            return sum;
        }
    }

    public void ReadConfig(int offset, Span<byte> data) => _config.AsSpan(offset, data.Length).CopyTo(data);

    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        // Nothing in our config is writable (writeback needs CONFIG_WCE, which we do not offer).
    }

    public void Activate(VirtioActivation activation)
    {
        lock (_lock)
        {
            if (_running.Length != 0) throw new InvalidOperationException("virtio-blk activated twice without a reset");
            var queues = new List<VirtioBlkQueue>();
            try
            {
                for (int i = 0; i < activation.Queues.Length; i++)
                {
                    if (activation.Queues[i] is not { } q) continue;
                    var engine = _createEngine();
                    try { queues.Add(new VirtioBlkQueue(i, q, activation, _disk, engine, _maxSegments)); }
                    catch { engine.Dispose(); throw; }
                }
            }
            catch
            {
                // A host failure creating an engine (io_uring setup, eventfd): nothing starts; the transport marks us broken.
                foreach (var q in queues) q.Stop();
                throw;
            }
            Volatile.Write(ref _running, queues.ToArray());
            foreach (var q in queues) q.Start();
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            foreach (var q in _running)
            {
                q.Stop();
                var c = q.Counters;
                c.Faults += q.Faults;
                _retired.Add(c);
            }
            Volatile.Write(ref _running, []);
            _backend?.ClearFlushError();
        }
    }

    /// <summary>Whether any queue worker is still running (tests: none after Reset returns).</summary>
    internal bool AnyWorkerAlive
    {
        get
        {
            foreach (var q in Volatile.Read(ref _running)) if (q.IsAlive) return true;
            return false;
        }
    }

    private static ulong Bit(int feature) => 1UL << feature;
}
