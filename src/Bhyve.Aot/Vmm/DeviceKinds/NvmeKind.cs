using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Vmm;

/// <summary>NVMe controllers with one namespace each (`--nvme`): a thin adapter from <see cref="NvmeConfig"/> to Devices/Nvme.</summary>
public sealed class NvmeKind : DeviceKind<NvmeConfig, NvmeKind.Controller>
{
    public static NvmeKind Instance { get; } = new();

    public override string Name => "nvme";
    public override string Description => "NVMe controller";
    public override string LongOption => "--nvme";
    public override string OptionSyntax =>
        "path=FILE|ram=SIZE[,readonly][,dsm=auto|enable|disable][,queues=N][,queue-size=N][,sector-size=512|4096][,serial=S][,direct][,size=S,create][,slot=N]";

    public override NvmeConfig ParseOption(string text) => NvmeConfig.Parse(text);

    public override Controller Attach(NvmeConfig config, DeviceContext context)
    {
        var file = Open(config);
        try
        {
            int shift = config.SectorSize == 4096 ? 12 : 9;
            string what = $"--nvme {config.Describe()}";
            if (file.Direct && (uint)config.SectorSize < file.LogicalBlockSize)
                throw new ConfigException($"{what}: sector-size={config.SectorSize} is smaller than the O_DIRECT block size {file.LogicalBlockSize}");
            if (file.Size >> shift == 0) throw new ConfigException($"{what}: smaller than one {config.SectorSize}-byte sector");
            // Deallocate: auto offers it only where punching holes (files) or zero-out with unmap (devices) works.
            bool dsm = !config.ReadOnly && config.Dsm switch { DsmMode.Enable => true, DsmMode.Disable => false, _ => file.CanDiscard };
            string serial = config.Serial.Length > 0 ? config.Serial : $"BHYVEAOT{context.Index:D4}";
            var ns = new NvmeNamespace(file.Size >> shift, shift, config.ReadOnly, dsm, DeallocateWorks: dsm && file.CanDiscard,
                                       WriteZeroes: !config.ReadOnly && file.CanWriteZeroes, serial);
            var identity = new NvmeIdentity(NvmeController.Vendor, NvmeController.Vendor, serial, NvmeIdentity.DefaultModel,
                                            NvmeIdentity.DefaultFirmware, NvmeIdentity.DefaultMdts, ControllerId: (ushort)(context.Index + 1));
            // One engine per enable, shared by all queues of the controller: deep enough for a full queue and a
            // 256-range Dataset Management command.
            var options = BlockEngineOptions.Default with
            {
                QueueDepth = Math.Max(257, Math.Min(config.QueueSize, 1024)),
                MaxSegments = NvmeQueueProcessor.MaxSegments,
            };
            var controller = new NvmeController(ns, identity, config.Queues, config.QueueSize, context.Memory, context.CreateMsiSink(config.Queues + 1),
                context.Doorbells, () => BlockEngineFactory.Create(file, options), file);
            return new Controller(config, controller, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override string Stats(IReadOnlyList<Controller> devices)
    {
        var n = new NvmeCounters();
        foreach (var c in devices) n.Add(c.Device.Counters);
        return $"nvme: {n.IoCommands} I/O commands, {n.AdminCommands} admin commands, doorbells {n.MmioDoorbells} MMIO + {n.EventFdDoorbells} ioeventfd, {n.Interrupts} interrupts, {n.CqFullWaits} CQ-full waits, {n.BackendFull} backend-full stalls";
    }

    private static BlockFile Open(NvmeConfig config)
    {
        try
        {
            if (config.Path is null) return BlockFile.CreateInMemory("bhyve-aot-nvme", config.RamBytes);
            var file = config.Create ? BlockFile.Create(config.Path, config.CreateSize, config.Direct) : BlockFile.Open(config.Path, config.ReadOnly, config.Direct);
            // Another VM writing the same image would corrupt it: an OFD lock refuses the second opener.
            return file.Lock();
        }
        catch (BlockFileException e) { throw new ConfigException($"--nvme {config.Describe()}: {e.Message}"); }
    }

    /// <summary>One attached controller and its namespace's backing store.</summary>
    public sealed class Controller(NvmeConfig config, NvmeController device, BlockFile file) : IMachineDevice
    {
        public IDeviceConfig Config => config;
        public NvmeController Device => device;
        public PciDevice Function => device;

        /// <summary>The controller stopped as at a reset (its queue thread drains the kernel's I/O), then the backend flushed and closed.</summary>
        public string? Shutdown()
        {
            device.Shutdown();
            return BackendFlush.FlushAndClose(file);
        }
    }
}
