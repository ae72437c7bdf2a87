using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Vmm;

/// <summary>virtio-blk disks (`--disk`): a thin adapter from <see cref="DiskConfig"/> to the device in Devices/Virtio/Blk.</summary>
public sealed class VirtioBlkKind : DeviceKind<DiskConfig, VirtioBlkKind.Disk>
{
    public static VirtioBlkKind Instance { get; } = new();

    public override string Name => "virtio-blk";
    public override string Description => "virtio-blk disk";
    public override string LongOption => "--disk";
    public override string OptionSyntax =>
        "path=FILE[,readonly][,discard=unmap|ignore][,direct][,queues=N][,queue-size=N][,size=S,create][,serial=S][,slot=N]";

    public override DiskConfig ParseOption(string text) => DiskConfig.Parse(text);

    public override Disk Attach(DiskConfig disk, DeviceContext context)
    {
        var file = Open(disk);
        var options = BlockEngineOptions.Default with { QueueDepth = disk.QueueSize };
        var model = new VirtioBlkDisk(
            CapacitySectors: file.Size / 512,
            BlockSize: file.LogicalBlockSize,
            ReadOnly: disk.ReadOnly,
            Discard: disk.Discard == DiscardMode.Unmap && file.CanDiscard,
            WriteZeroes: file.CanWriteZeroes,
            WriteZeroesMayUnmap: disk.Discard == DiscardMode.Unmap && file.CanDiscard,
            Serial: disk.Serial);
        var blk = new VirtioBlk(model, disk.Queues, (ushort)disk.QueueSize, options.MaxSegments, () => BlockEngineFactory.Create(file, options), file);
        var transport = new VirtioPciTransport(blk, context.Memory, context.CreateMsiSink(disk.Queues + 1), context.Doorbells);
        return new Disk(disk, blk, transport, file);
    }

    public override string Stats(IReadOnlyList<Disk> devices)
    {
        var d = new VirtioQueueCounters();
        foreach (var disk in devices) d.Add(disk.Device.Counters);
        return $"virtio-blk: {d.Requests} requests, {d.Doorbells} doorbells (ioeventfd), {d.Interrupts} interrupts, {d.BackendFull} backend-full stalls";
    }

    private static BlockFile Open(DiskConfig disk)
    {
        try
        {
            var file = disk.Create ? BlockFile.Create(disk.Path, disk.CreateSize, disk.Direct) : BlockFile.Open(disk.Path, disk.ReadOnly, disk.Direct);
            // Shared for read-only, exclusive for writing; lock=off leaves the image unlocked.
            return disk.Lock ? file.Lock() : file;
        }
        catch (BlockFileException e) { throw new ConfigException($"--disk {disk.Path}: {e.Message}"); }
    }

    /// <summary>One attached disk: the virtio-blk device, its PCI transport and its backing file.</summary>
    public sealed class Disk(DiskConfig config, VirtioBlk device, VirtioPciTransport transport, BlockFile file) : IMachineDevice
    {
        public IDeviceConfig Config => config;
        public VirtioBlk Device => device;
        public PciDevice Function => transport;

        /// <summary>Queue workers stopped (each drains what the kernel still holds), then the file flushed and closed.</summary>
        public string? Shutdown()
        {
            device.Reset();
            return BackendFlush.FlushAndClose(file);
        }
    }
}
