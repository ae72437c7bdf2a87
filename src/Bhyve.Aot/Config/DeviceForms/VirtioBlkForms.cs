using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>virtio-blk in bhyve's `-s N,virtio-blk,...` and in the machine file's `drives` (Firecracker's section).</summary>
public sealed class VirtioBlkForms : IDeviceForms
{
    public IDeviceKind Kind => VirtioBlkKind.Instance;
    public IReadOnlyList<string> BhyveEmulations { get; } = ["virtio-blk"];

    /// <summary>
    /// bhyve's virtio-blk options (path first, then ro, nocache, nodelete, ser=) plus bhyve-aot's own long-form keys
    /// for what bhyve lacks (discard, queues, queue-size, size/create).
    /// </summary>
    public IDeviceConfig ParseBhyve(string label, string conf, int slot)
    {
        string? path = null;
        var d = new DiskConfig { Path = "" };
        var o = new DeviceOptions(label, conf);
        while (o.MoveNext())
        {
            switch (o.Key)
            {
                case "path": path = o.Text(); break;
                case "ro" or "readonly": d = d with { ReadOnly = o.Flag() }; break;
                case "nocache": d = d with { Direct = o.Flag() }; break;
                case "nodelete": d = d with { Discard = o.Flag() ? DiscardMode.Ignore : DiscardMode.Unmap }; break;
                case "discard":
                    d = d with
                    {
                        Discard = o.Value switch
                        {
                            null or "unmap" or "on" => DiscardMode.Unmap,
                            "ignore" or "off" => DiscardMode.Ignore,
                            _ => throw o.Error("expected unmap, ignore, on or off"),
                        },
                    };
                    break;
                case "ser" or "serial": d = d with { Serial = o.Serial(20) }; break;
                case "queues": d = d with { Queues = o.Number(1, DiskConfig.MaxQueues) }; break;
                case "queue-size": d = d with { QueueSize = o.PowerOfTwo(2, 1024) }; break;
                case "create": d = d with { Create = o.Flag() }; break;
                case "size": d = d with { CreateSize = o.Size(512) }; break;
                case "direct" or "sync":
                    throw new ConfigException($"{label}: {o.Key} (O_SYNC writes) is not supported; nocache gives O_DIRECT, and the guest's flushes make writes durable");
                case "sectorsize":
                    throw new ConfigException($"{label}: sectorsize is not supported for virtio-blk; the disk reports its backing file's logical block size");
                case var _ when o.IsBareFirst: path = o.Part; break;
                default: throw o.Unknown("path, ro, nocache, nodelete, discard, ser, queues, queue-size, size, create");
            }
        }
        if (string.IsNullOrEmpty(path)) throw new ConfigException($"{label}: no backing file (-s slot,virtio-blk,PATH)");
        if (d.Create && d.CreateSize == 0) throw new ConfigException($"{label}: create needs size= (e.g. size=1G)");
        if (!d.Create && d.CreateSize != 0) throw new ConfigException($"{label}: size= is only used with create");
        return d with { Path = path, PciSlot = slot };
    }

    /// <summary>The drives in file order, except that Firecracker's root drive (is_root_device) comes first, so it is /dev/vda.</summary>
    public IEnumerable<IDeviceConfig> Read(MachineFile file) =>
        FirecrackerFields.RootFirst(file.Drives ?? [], out _).Select(d => Drive(d.Entry, $"drives[{d.Index}]")).ToArray();

    public IEnumerable<string?> Ids(MachineFile file) => (file.Drives ?? []).Select(d => d.DriveId);

    private static DiskConfig Drive(DriveEntry d, string where)
    {
        if (string.IsNullOrEmpty(d.PathOnHost)) throw new ConfigException($"{where}.path_on_host is missing");
        FirecrackerFields.CheckDrive(d, where);
        ulong create = d.CreateSize is null ? 0 : MachineFileReader.Size(d.CreateSize, $"{where}.create_size");
        var disk = new DiskConfig
        {
            Path = d.PathOnHost,
            ReadOnly = d.IsReadOnly ?? false,
            Discard = d.Discard switch
            {
                null or "unmap" => DiscardMode.Unmap,
                "ignore" => DiscardMode.Ignore,
                "on" => DiscardMode.Unmap,
                "off" => DiscardMode.Ignore,
                var other => throw new ConfigException($"{where}.discard \"{other}\": expected \"unmap\", \"ignore\", \"on\" or \"off\""),
            },
            Direct = d.Direct ?? false,
            Serial = d.Serial ?? "",
            Create = d.CreateSize is not null,
            CreateSize = create,
            PciSlot = d.PciSlot,
            Lock = d.Lock ?? true,
        };
        disk = disk with { Queues = d.Queues ?? disk.Queues, QueueSize = d.QueueSize ?? disk.QueueSize };
        return MachineFileReader.Checked(disk.Validate, disk, where);
    }

    public void Write(MachineFile file, IReadOnlyList<(IDeviceConfig Device, int Slot)> devices) =>
        file.Drives = devices.Select((e, i) =>
        {
            var d = (DiskConfig)e.Device;
            return new DriveEntry
            {
                DriveId = $"disk{i}",
                PathOnHost = d.Path,
                IsReadOnly = d.ReadOnly,
                Discard = d.Discard == DiscardMode.Unmap ? "unmap" : "ignore",
                Direct = d.Direct,
                Queues = d.Queues,
                QueueSize = d.QueueSize,
                Serial = d.Serial,
                CreateSize = d.Create ? ByteSize.Format(d.CreateSize) : null,
                PciSlot = e.Slot,
                Lock = d.Lock ? null : false,
            };
        }).ToList();
}
