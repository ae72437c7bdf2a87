namespace Bhyve.Aot.Vmm;

/// <summary>What a guest may do with discard requests on a virtio-blk disk.</summary>
public enum DiscardMode
{
    /// <summary>Offer DISCARD and punch holes in the backing file.</summary>
    Unmap,
    /// <summary>Do not offer DISCARD (the file never shrinks).</summary>
    Ignore,
}

/// <summary>One virtio-blk disk, as given by `--disk path=...,readonly,discard=unmap|ignore,direct,queues=N,queue-size=N,size=S,create,serial=S`.</summary>
public sealed record DiskConfig : IDeviceConfig
{
    public const int MaxQueues = 16;
    public const int DefaultQueueSize = 256;

    public required string Path { get; init; }
    public bool ReadOnly { get; init; }
    public DiscardMode Discard { get; init; } = DiscardMode.Unmap;
    public bool Direct { get; init; }
    public int Queues { get; init; } = 1;
    public int QueueSize { get; init; } = DefaultQueueSize;
    /// <summary>Size for a file made with `create` (bytes); 0 when not creating.</summary>
    public ulong CreateSize { get; init; }
    public bool Create { get; init; }
    public string Serial { get; init; } = "";
    /// <summary>Take an OFD lock on the image (shared when read-only, exclusive otherwise); `lock=off` skips it.</summary>
    public bool Lock { get; init; } = true;
    /// <summary>The PCI slot the guest finds this disk in (1..31); null: the next free slot.</summary>
    public int? PciSlot { get; init; }

    public IDeviceKind Kind => VirtioBlkKind.Instance;
    public string Who => $"disk {Path}";

    /// <summary>Parses the comma-separated form; throws ConfigException naming the bad key.</summary>
    public static DiskConfig Parse(string text)
    {
        string? path = null;
        bool readOnly = false, direct = false, create = false, lockImage = true;
        var discard = DiscardMode.Unmap;
        int queues = 1, queueSize = DefaultQueueSize;
        ulong size = 0;
        string serial = "";
        int? slot = null;
        var o = new DeviceOptions("--disk", text);
        while (o.MoveNext())
        {
            switch (o.Key)
            {
                case "path": path = o.Text(); break;
                case "readonly" or "ro": readOnly = o.Flag(); break;
                case "direct": direct = o.Flag(); break;
                case "create": create = o.Flag(); break;
                case "discard":
                    discard = o.Text() switch
                    {
                        "unmap" or "on" => DiscardMode.Unmap,
                        "ignore" or "off" => DiscardMode.Ignore,
                        _ => throw o.Error("expected unmap, ignore, on or off"),
                    };
                    break;
                case "queues": queues = o.Number(1, MaxQueues); break;
                case "queue-size": queueSize = o.PowerOfTwo(2, 1024); break;
                case "size": size = o.Size(512); break;
                case "serial": serial = o.Serial(20); break;
                case "slot": slot = o.Number(1, PciSlots.Last); break;
                case "lock":
                    lockImage = o.Text() switch { "on" => true, "off" => false, _ => throw o.Error("expected on or off") };
                    break;
                // A bare first word is the path, as in `--disk disk.img,readonly`.
                case var _ when o.IsBareFirst: path = o.Part; break;
                default: throw o.Unknown("path, readonly, discard, direct, queues, queue-size, size, create, serial, slot, lock");
            }
        }
        if (string.IsNullOrEmpty(path)) throw new ConfigException("--disk: no path (--disk path=disk.img)");
        if (create && size == 0) throw new ConfigException("--disk create needs size= (e.g. size=1G)");
        if (!create && size != 0) throw new ConfigException("--disk size= is only used with create");
        if (create && readOnly) throw new ConfigException("--disk create and readonly together make no sense");
        return new DiskConfig
        {
            Path = path, ReadOnly = readOnly, Discard = discard, Direct = direct, Queues = queues, QueueSize = queueSize,
            Create = create, CreateSize = size, Serial = serial, PciSlot = slot, Lock = lockImage,
        };
    }

    /// <summary>
    /// The limits every front end's disk must meet (the text forms check keys as they read them, the machine file
    /// relies on this); throws ConfigException naming the disk and the field.
    /// </summary>
    public void Validate()
    {
        string who = Who;
        if (string.IsNullOrEmpty(Path)) throw new ConfigException("disk: no path");
        if (Queues is < 1 or > MaxQueues) throw new ConfigException($"{who}: queues {Queues} is out of range (1..{MaxQueues})");
        if (QueueSize is < 2 or > 1024 || (QueueSize & (QueueSize - 1)) != 0)
            throw new ConfigException($"{who}: queue-size {QueueSize} must be a power of two (2..1024)");
        if (!DeviceOptions.IsSerial(Serial, 20)) throw new ConfigException($"{who}: serial must be at most 20 printable ASCII characters");
        if (Create && (CreateSize == 0 || CreateSize % 512 != 0)) throw new ConfigException($"{who}: create needs a size that is a non-zero multiple of 512 bytes");
        if (!Create && CreateSize != 0) throw new ConfigException($"{who}: a size is only used with create");
        if (Create && ReadOnly) throw new ConfigException($"{who}: create and readonly together make no sense");
        PciSlots.Check(PciSlot, who);
    }
}
