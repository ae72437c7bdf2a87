using System.Globalization;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>The emulations `-s` accepts.</summary>
public enum BhyveEmulation
{
    HostBridge,
    /// <summary>Accepted so that bhyve command lines work unchanged; COM1 is an ISA device here whatever the slot.</summary>
    Lpc,
    VirtioBlk,
    Nvme,
}

/// <summary>One `-s slot[:func],emulation[,conf]` read into the model: the slot, and the disk or controller it holds.</summary>
public sealed record BhyveSlot(int Slot, BhyveEmulation Emulation, DiskConfig? Disk = null, NvmeConfig? Nvme = null)
{
    /// <summary>bhyve emulations that bhyve-aot knows but does not offer, so a user is told that rather than "unknown".</summary>
    private static readonly string[] NotOffered =
    [
        "virtio-net", "virtio-rnd", "virtio-console", "virtio-scsi", "virtio-9p", "virtio-input", "ahci", "ahci-hd",
        "ahci-cd", "e1000", "fbuf", "xhci", "passthru", "uart", "hda", "nvidia-gpu",
    ];

    private const string Supported = "hostbridge, virtio-blk, nvme, lpc";

    public static BhyveSlot Parse(string text)
    {
        int comma = text.IndexOf(',');
        if (comma < 0) throw new ConfigException($"-s {text}: expected slot[:func],emulation[,options]");
        string slotText = text[..comma];
        string rest = text[(comma + 1)..];
        int nextComma = rest.IndexOf(',');
        string emulation = nextComma < 0 ? rest : rest[..nextComma];
        string conf = nextComma < 0 ? "" : rest[(nextComma + 1)..];
        string label = $"-s {slotText},{emulation}";
        int slot = ParseSlot(slotText, label);

        switch (emulation)
        {
            case "hostbridge" or "amd_hostbridge":
                if (slot != PciSlots.HostBridge) throw new ConfigException($"{label}: the host bridge sits at slot 0 (-s 0,hostbridge)");
                if (conf.Length > 0) throw new ConfigException($"{label}: the host bridge takes no options (got '{conf}')");
                return new BhyveSlot(slot, BhyveEmulation.HostBridge);
            case "lpc":
                CheckDeviceSlot(slot, label);
                if (conf.Length > 0) throw new ConfigException($"{label}: lpc takes no options (got '{conf}')");
                return new BhyveSlot(slot, BhyveEmulation.Lpc);
            case "virtio-blk":
                CheckDeviceSlot(slot, label);
                return new BhyveSlot(slot, BhyveEmulation.VirtioBlk, Disk: ParseDisk(label, conf) with { PciSlot = slot });
            case "nvme":
                CheckDeviceSlot(slot, label);
                return new BhyveSlot(slot, BhyveEmulation.Nvme, Nvme: ParseNvme(label, conf) with { PciSlot = slot });
            case "":
                throw new ConfigException($"-s {text}: no emulation named (supported: {Supported})");
            case var _ when NotOffered.Contains(emulation):
                throw new ConfigException($"{label}: bhyve-aot does not emulate {emulation} (supported: {Supported})");
            default:
                throw new ConfigException($"{label}: unknown emulation '{emulation}' (supported: {Supported})");
        }
    }

    /// <summary>`slot`, `slot:func` or `bus:slot:func`; only bus 0 and function 0 exist here.</summary>
    private static int ParseSlot(string text, string label)
    {
        string[] parts = text.Split(':');
        if (parts.Length > 3 || parts.Any(p => !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new ConfigException($"{label}: '{text}' is not a PCI slot (slot, slot:function or bus:slot:function)");
        int[] n = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        int bus = n.Length == 3 ? n[0] : 0;
        int slot = n.Length == 3 ? n[1] : n[0];
        int function = n.Length >= 2 ? n[^1] : 0;
        if (bus != 0) throw new ConfigException($"{label}: PCI bus {bus} does not exist (only bus 0)");
        if (slot > PciSlots.Last) throw new ConfigException($"{label}: PCI slot {slot} is out of range (0..{PciSlots.Last})");
        if (function != 0) throw new ConfigException($"{label}: PCI function {function} is not supported (one device per slot, function 0)");
        return slot;
    }

    private static void CheckDeviceSlot(int slot, string label)
    {
        if (slot == PciSlots.HostBridge) throw new ConfigException($"{label}: slot 0 is the host bridge's (-s 0,hostbridge)");
    }

    /// <summary>
    /// bhyve's virtio-blk options (path first, then ro, nocache, nodelete, ser=) plus bhyve-aot's own long-form keys
    /// for what bhyve lacks (discard, queues, queue-size, size/create).
    /// </summary>
    private static DiskConfig ParseDisk(string label, string conf)
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
        return d with { Path = path };
    }

    /// <summary>
    /// bhyve's nvme options (devpath or ram=MiB first, maxq, qsz, ioslots, sectsz, ser, dsm, and the block options ro
    /// and nocache) plus bhyve-aot's size/create.
    /// </summary>
    private static NvmeConfig ParseNvme(string label, string conf)
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
        return c;
    }
}
