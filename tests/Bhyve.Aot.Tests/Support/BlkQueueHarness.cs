using System.Buffers.Binary;
using System.Diagnostics;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;

namespace Bhyve.Aot.Tests.Support;

/// <summary>Counts the interrupts a device raises.</summary>
internal sealed class CountingInterrupts : IVirtioInterrupts
{
    public int Queued, Config;
    public void Queue(int queue) => Queued++;
    public void ConfigChanged() => Config++;
}

/// <summary>
/// One virtio-blk queue over fake guest RAM and a real temp file, driven synchronously through
/// VirtioBlkQueue.Service() on the test thread (the I/O thread is never started).
/// </summary>
internal sealed unsafe class BlkQueueHarness : IDisposable
{
    public const string Serial = "bhyve-test";
    private readonly StorageScratch _scratch = new();
    private readonly EventFd[] _notifiers = [new EventFd()];

    public BlkQueueHarness(BlockEngineKind kind, ulong diskBytes = 4 << 20, bool readOnly = false, bool? discard = null,
                           bool eventIdx = false, ushort queueSize = 16, byte[]? initialContent = null, string serial = Serial,
                           IBlockEngine? engine = null, ulong ramBytes = FakeVirtqDriver.RamSize, int maxDataSegments = 32)
    {
        Path = _scratch.PathOf("disk.img");
        if (initialContent is not null) System.IO.File.WriteAllBytes(Path, initialContent);
        File = readOnly ? BlockFile.Open(Path, readOnly: true) : initialContent is not null ? BlockFile.Open(Path) : BlockFile.Create(Path, diskBytes);
        Engine = engine ?? EngineDriver.Create(kind, File);
        if (engine is null && kind == BlockEngineKind.IoUring && Engine is not IoUringBlockEngine) throw new InvalidOperationException("io_uring engine unavailable");
        Ram = FakeVirtqDriver.NewRam(ramBytes);
        Driver = new FakeVirtqDriver(Ram, queueSize);
        Queue = Driver.CreateQueue(eventIdx);
        ulong features = 1UL << VirtioFeatures.Version1 | 1UL << VirtioFeatures.IndirectDesc | (eventIdx ? 1UL << VirtioFeatures.EventIdx : 0);
        var activation = new VirtioActivation(Ram.Memory, features, [Queue], _notifiers, Interrupts, r => { lock (Resets) Resets.Add(r); });
        bool canDiscard = discard ?? File.CanDiscard;
        Disk = new VirtioBlkDisk(File.Size / 512, 512, readOnly, canDiscard, File.CanWriteZeroes, WriteZeroesMayUnmap: true, serial);
        Activation = activation;
        Blk = new VirtioBlkQueue(0, Queue, activation, Disk, Engine, maxDataSegments);
    }

    public string Path { get; }
    public BlockFile File { get; }
    public IBlockEngine Engine { get; }
    public FakeRam Ram { get; }
    public FakeVirtqDriver Driver { get; }
    public SplitVirtqueue Queue { get; }
    public VirtioBlkDisk Disk { get; }
    public VirtioBlkQueue Blk { get; }
    public VirtioActivation Activation { get; }
    /// <summary>The queue's doorbell (what KVM's ioeventfd would signal).</summary>
    public EventFd Doorbell => _notifiers[0];
    public CountingInterrupts Interrupts { get; } = new();
    /// <summary>NEEDS_RESET reasons the queue raised (it may raise them on its worker thread: lock it to read).</summary>
    public List<string> Resets { get; } = [];
    public ulong Capacity => Disk.CapacitySectors;

    /// <summary>Services the queue until used->idx reaches `usedIdx` and the engine is idle (bounded: 10 s).</summary>
    public void RunUntilUsed(ushort usedIdx)
    {
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (true)
        {
            Blk.Service();
            if (Driver.UsedIdx == usedIdx && Blk.EngineInFlight == 0) return;
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"used idx {Driver.UsedIdx}, want {usedIdx}; engine in flight {Blk.EngineInFlight}");
            Thread.Yield();
        }
    }

    /// <summary>Services for a while and returns; for checking that nothing happens.</summary>
    public void ServiceIdle(int passes = 20)
    {
        for (int i = 0; i < passes; i++) { Blk.Service(); Thread.Sleep(1); }
    }

    /// <summary>Data buffer in guest RAM, optionally filled.</summary>
    public ulong Buffer(int length, byte fill = 0)
    {
        ulong at = Driver.Alloc(length, 512);
        Driver.Bytes(at, length).Fill(fill);
        return at;
    }

    /// <summary>
    /// Builds header + data + status as a direct chain, publishes it, services to completion, and returns the status
    /// byte and the used-ring length of the entry.
    /// </summary>
    public (byte Status, uint UsedLength) Do(uint type, ulong sector, params (ulong Address, uint Length)[] data)
    {
        bool writable = type is VirtioBlkType.In or VirtioBlkType.GetId;
        var segs = new (ulong, uint, bool)[data.Length + 2];
        segs[0] = (Driver.BlkHeader(type, sector), 16, false);
        for (int i = 0; i < data.Length; i++) segs[i + 1] = (data[i].Address, data[i].Length, writable);
        ulong status = Driver.StatusByte();
        segs[^1] = (status, 1, true);
        ushort head = Driver.Chain(segs);
        Driver.Publish(head);
        ushort want = (ushort)(Driver.UsedIdx + 1);
        RunUntilUsed(want);
        var used = Driver.Used(want - 1);
        if (used.Id != head) throw new InvalidOperationException($"used id {used.Id}, head {head}");
        return (*Driver.Host(status), used.Length);
    }

    /// <summary>A DISCARD / WRITE_ZEROES request with one 16-byte segment.</summary>
    public (byte Status, uint UsedLength) Range(uint type, ulong sector, uint sectors, uint flags)
    {
        ulong seg = Driver.Alloc(16);
        var s = Driver.Bytes(seg, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(s, sector);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], flags);
        return Do(type, 0, (seg, 16));
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
        // The kernel may still be writing guest RAM for a request a test left in flight: let it finish first.
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (!Blk.IsAlive && Blk.Failure is null && Blk.EngineInFlight > 0 && Stopwatch.GetTimestamp() < deadline) { Blk.Service(); Thread.Yield(); }
        Blk.Stop(); // never started: drains nothing, releases the engine and the loop
        File.Dispose();
        foreach (var n in _notifiers) n.Dispose();
        Ram.Dispose();
        _scratch.Dispose();
    }
}
