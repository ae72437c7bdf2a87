using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>NVMe in bhyve's `-s N,nvme,...` and in the machine file's `nvme` section.</summary>
public sealed class NvmeForms : IDeviceForms
{
    public IDeviceKind Kind => NvmeKind.Instance;
    public IReadOnlyList<string> BhyveEmulations { get; } = ["nvme"];

    /// <summary>
    /// bhyve's nvme options (devpath or ram=MiB first, maxq, qsz, ioslots, sectsz, ser, dsm, and the block options ro
    /// and nocache) plus bhyve-aot's size/create.
    /// </summary>
    public IDeviceConfig ParseBhyve(string label, string conf, int slot)
    {
        string? path = null;
        var c = new NvmeConfig();
        var o = new DeviceOptions(label, conf);
        while (o.MoveNext())
        {
            switch (o.Key)
            {
                case "path": path = o.Text(); break;
                case "ram":
                    if (!BhyveSize.TryParse(o.Text(), out ulong ram) || ram == 0 || ram % 4096 != 0)
                        throw o.Error("expected a size in MiB or with a suffix (e.g. 64 or 1G)");
                    c = c with { RamBytes = ram };
                    break;
                case "maxq": c = c with { Queues = o.Number(1, NvmeConfig.MaxQueues) }; break;
                case "qsz": c = c with { QueueSize = o.Number(2, NvmeConfig.MaxQueueSize) }; break;
                // bhyve bounds the commands in flight with ioslots; here the I/O queue depth does that, so the value
                // is checked and then not needed.
                case "ioslots": o.Number(1, 65535); break;
                case "sectsz":
                    int sector = o.Number(512, 8192);
                    if (sector is not (512 or 4096)) throw o.Error("expected 512 or 4096");
                    c = c with { SectorSize = sector };
                    break;
                case "ser": c = c with { Serial = o.Serial(20) }; break;
                case "dsm":
                    c = c with { Dsm = NvmeConfig.ParseDsm(o) };
                    break;
                case "ro": c = c with { ReadOnly = o.Flag() }; break;
                case "nocache": c = c with { Direct = o.Flag() }; break;
                case "create": c = c with { Create = o.Flag() }; break;
                case "size": c = c with { CreateSize = o.Size(4096) }; break;
                case "eui64": throw new ConfigException($"{label}: eui64 is not supported (the namespace has no EUI-64)");
                case "direct" or "sync":
                    throw new ConfigException($"{label}: {o.Key} (O_SYNC writes) is not supported; nocache gives O_DIRECT, and the guest's flushes make writes durable");
                case var _ when o.IsBareFirst: path = o.Part; break;
                default: throw o.Unknown("devpath, ram, maxq, qsz, ioslots, sectsz, ser, dsm, ro, nocache, size, create");
            }
        }
        c = c with { Path = path };
        if (path is null && c.RamBytes == 0) throw new ConfigException($"{label}: no backing store (-s slot,nvme,PATH or -s slot,nvme,ram=MiB)");
        if (path is not null && c.RamBytes != 0) throw new ConfigException($"{label}: a path and ram= exclude each other");
        if (c.Create && c.CreateSize == 0) throw new ConfigException($"{label}: create needs size= (e.g. size=1G)");
        if (!c.Create && c.CreateSize != 0) throw new ConfigException($"{label}: size= is only used with create");
        if (c.RamBytes != 0 && (c.Direct || c.ReadOnly)) throw new ConfigException($"{label}: ram= cannot be nocache or ro");
        return c with { PciSlot = slot };
    }

    public IEnumerable<IDeviceConfig> Read(MachineFile file) => (file.Nvme ?? []).Select((n, i) => Entry(n, $"nvme[{i}]")).ToArray();

    public IEnumerable<string?> Ids(MachineFile file) => (file.Nvme ?? []).Select(n => n.DriveId);

    private static NvmeConfig Entry(NvmeEntry n, string where)
    {
        if (n.PathOnHost is null && n.RamSize is null) throw new ConfigException($"{where}: give path_on_host or ram_size");
        var defaults = new NvmeConfig();
        var nvme = new NvmeConfig
        {
            Path = n.PathOnHost,
            RamBytes = n.RamSize is null ? 0 : MachineFileReader.Size(n.RamSize, $"{where}.ram_size"),
            ReadOnly = n.IsReadOnly ?? false,
            Dsm = n.Dsm switch
            {
                null or "auto" => DsmMode.Auto,
                "enable" => DsmMode.Enable,
                "disable" => DsmMode.Disable,
                var other => throw new ConfigException($"{where}.dsm \"{other}\": expected \"auto\", \"enable\" or \"disable\""),
            },
            Queues = n.Queues ?? defaults.Queues,
            QueueSize = n.QueueSize ?? defaults.QueueSize,
            SectorSize = n.SectorSize ?? defaults.SectorSize,
            Serial = n.Serial ?? "",
            Direct = n.Direct ?? false,
            Create = n.CreateSize is not null,
            CreateSize = n.CreateSize is null ? 0 : MachineFileReader.Size(n.CreateSize, $"{where}.create_size"),
            PciSlot = n.PciSlot,
        };
        return MachineFileReader.Checked(nvme.Validate, nvme, where);
    }

    public void Write(MachineFile file, IReadOnlyList<(IDeviceConfig Device, int Slot)> devices) =>
        file.Nvme = devices.Select((e, i) =>
        {
            var n = (NvmeConfig)e.Device;
            return new NvmeEntry
            {
                DriveId = $"nvme{i}",
                PathOnHost = n.Path,
                RamSize = n.RamBytes != 0 ? ByteSize.Format(n.RamBytes) : null,
                IsReadOnly = n.ReadOnly,
                Dsm = n.Dsm switch { DsmMode.Enable => "enable", DsmMode.Disable => "disable", _ => "auto" },
                Queues = n.Queues,
                QueueSize = n.QueueSize,
                SectorSize = n.SectorSize,
                Serial = n.Serial,
                Direct = n.Direct,
                CreateSize = n.Create ? ByteSize.Format(n.CreateSize) : null,
                PciSlot = e.Slot,
            };
        }).ToList();
}
