namespace Bhyve.Aot.Vmm;

/// <summary>Whether an NVMe namespace offers Dataset Management deallocate (TRIM).</summary>
public enum DsmMode
{
    /// <summary>Offer deallocate only when the backing file or device can really deallocate.</summary>
    Auto,
    /// <summary>Always offer it; on a backend that cannot deallocate the command succeeds without freeing space.</summary>
    Enable,
    /// <summary>Never offer it.</summary>
    Disable,
}

/// <summary>
/// One NVMe controller with one namespace, as given by
/// `--nvme path=FILE|ram=SIZE[,readonly][,dsm=auto|enable|disable][,queues=N][,queue-size=N][,sector-size=512|4096][,serial=S][,direct][,size=S,create]`.
/// </summary>
public sealed record NvmeConfig : IDeviceConfig
{
    public const int MaxQueues = 64;
    public const int DefaultQueueSize = 1024;
    public const int MaxQueueSize = 4096;

    /// <summary>Backing file; null for a RAM-backed namespace.</summary>
    public string? Path { get; init; }
    /// <summary>Size of a RAM-backed namespace in bytes (0 when file-backed).</summary>
    public ulong RamBytes { get; init; }
    public bool ReadOnly { get; init; }
    public DsmMode Dsm { get; init; } = DsmMode.Auto;
    /// <summary>The most I/O queue pairs the guest may create.</summary>
    public int Queues { get; init; } = 8;
    /// <summary>The most entries per I/O queue (CAP.MQES + 1).</summary>
    public int QueueSize { get; init; } = DefaultQueueSize;
    /// <summary>Logical block size the namespace reports: 512 or 4096.</summary>
    public int SectorSize { get; init; } = 512;
    public string Serial { get; init; } = "";
    public bool Direct { get; init; }
    public bool Create { get; init; }
    public ulong CreateSize { get; init; }
    /// <summary>The PCI slot the guest finds this controller in (1..31); null: the next free slot.</summary>
    public int? PciSlot { get; init; }

    public IDeviceKind Kind => NvmeKind.Instance;
    public string Who => $"nvme {Describe()}";

    /// <summary>What to call this namespace's backing store in messages.</summary>
    public string Describe() => Path ?? $"ram={ByteSize.Format(RamBytes)}";

    /// <summary>The value of a `dsm=` key, in both the --nvme and the bhyve `-s N,nvme` forms.</summary>
    public static DsmMode ParseDsm(DeviceOptions o) => o.Text() switch
    {
        "auto" => DsmMode.Auto,
        "enable" => DsmMode.Enable,
        "disable" => DsmMode.Disable,
        _ => throw o.Error("expected auto, enable or disable"),
    };

    /// <summary>Parses the comma-separated form; throws ConfigException naming the bad key.</summary>
    public static NvmeConfig Parse(string text)
    {
        var c = new NvmeConfig();
        string? path = null;
        var o = new DeviceOptions("--nvme", text);
        while (o.MoveNext())
        {
            switch (o.Key)
            {
                case "path": path = o.Text(); break;
                case "ram": c = c with { RamBytes = o.Size(4096) }; break;
                case "readonly" or "ro": c = c with { ReadOnly = o.Flag() }; break;
                case "dsm":
                    c = c with { Dsm = ParseDsm(o) };
                    break;
                case "queues": c = c with { Queues = o.Number(1, MaxQueues) }; break;
                case "queue-size": c = c with { QueueSize = o.Number(2, MaxQueueSize) }; break;
                case "sector-size":
                    int sector = o.Number(512, 4096);
                    if (sector is not (512 or 4096)) throw o.Error("expected 512 or 4096");
                    c = c with { SectorSize = sector };
                    break;
                case "serial": c = c with { Serial = o.Serial(20) }; break;
                case "direct": c = c with { Direct = o.Flag() }; break;
                case "create": c = c with { Create = o.Flag() }; break;
                case "size": c = c with { CreateSize = o.Size(4096) }; break;
                case "slot": c = c with { PciSlot = o.Number(1, PciSlots.Last) }; break;
                case var _ when o.IsBareFirst: path = o.Part; break;
                default: throw o.Unknown("path, ram, readonly, dsm, queues, queue-size, sector-size, serial, direct, size, create, slot");
            }
        }
        c = c with { Path = path };
        if (path is null && c.RamBytes == 0) throw new ConfigException("--nvme: no backing store (path=FILE or ram=SIZE)");
        if (path is not null && c.RamBytes != 0) throw new ConfigException("--nvme: path= and ram= exclude each other");
        if (c.Create && c.CreateSize == 0) throw new ConfigException("--nvme create needs size= (e.g. size=1G)");
        if (!c.Create && c.CreateSize != 0) throw new ConfigException("--nvme size= is only used with create");
        if (c.Create && path is null) throw new ConfigException("--nvme create needs path=");
        if (c.Create && c.ReadOnly) throw new ConfigException("--nvme create and readonly together make no sense");
        if (c.RamBytes != 0 && (c.Direct || c.ReadOnly)) throw new ConfigException("--nvme ram= cannot be direct or readonly");
        return c;
    }

    /// <summary>
    /// The limits every front end's controller must meet (the text forms check keys as they read them, the machine
    /// file relies on this); throws ConfigException naming the controller and the field.
    /// </summary>
    public void Validate()
    {
        string who = Who;
        if (Path is { Length: 0 }) throw new ConfigException("nvme: empty path");
        if (Path is null && RamBytes == 0) throw new ConfigException("nvme: no backing store (a path or a RAM size)");
        if (Path is not null && RamBytes != 0) throw new ConfigException($"{who}: a path and a RAM size exclude each other");
        if (RamBytes % 4096 != 0) throw new ConfigException($"{who}: the RAM size must be a multiple of 4096 bytes");
        if (Queues is < 1 or > MaxQueues) throw new ConfigException($"{who}: queues {Queues} is out of range (1..{MaxQueues})");
        if (QueueSize is < 2 or > MaxQueueSize) throw new ConfigException($"{who}: queue-size {QueueSize} is out of range (2..{MaxQueueSize})");
        if (SectorSize is not (512 or 4096)) throw new ConfigException($"{who}: sector-size {SectorSize} must be 512 or 4096");
        if (!DeviceOptions.IsSerial(Serial, 20)) throw new ConfigException($"{who}: serial must be at most 20 printable ASCII characters");
        if (!Enum.IsDefined(Dsm)) throw new ConfigException($"{who}: dsm must be auto, enable or disable");
        if (Create && (CreateSize == 0 || CreateSize % 4096 != 0)) throw new ConfigException($"{who}: create needs a size that is a non-zero multiple of 4096 bytes");
        if (!Create && CreateSize != 0) throw new ConfigException($"{who}: a size is only used with create");
        if (Create && Path is null) throw new ConfigException($"{who}: create needs a path");
        if (Create && ReadOnly) throw new ConfigException($"{who}: create and readonly together make no sense");
        if (RamBytes != 0 && (Direct || ReadOnly)) throw new ConfigException($"{who}: a RAM namespace cannot be direct or readonly");
        PciSlots.Check(PciSlot, who);
    }
}
