using System.Globalization;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>The emulations `-s` accepts.</summary>
public enum BhyveEmulation
{
    HostBridge,
    /// <summary>Accepted so that bhyve command lines work unchanged; COM1 is an ISA device here whatever the slot.</summary>
    Lpc,
    /// <summary>A device of a registered kind (virtio-blk, nvme, ...): <see cref="BhyveSlot.Device"/> holds it.</summary>
    Device,
}

/// <summary>One `-s slot[:func],emulation[,conf]` read into the model: the slot, and the device it holds.</summary>
public sealed record BhyveSlot(int Slot, BhyveEmulation Emulation, IDeviceConfig? Device = null)
{
    public DiskConfig? Disk => Device as DiskConfig;
    public NvmeConfig? Nvme => Device as NvmeConfig;

    /// <summary>bhyve emulations that bhyve-aot knows but does not offer, so a user is told that rather than "unknown".</summary>
    private static readonly string[] NotOffered =
    [
        "virtio-net", "virtio-rnd", "virtio-console", "virtio-scsi", "virtio-9p", "virtio-input", "ahci", "ahci-hd",
        "ahci-cd", "e1000", "fbuf", "xhci", "passthru", "uart", "hda", "nvidia-gpu",
    ];

    private static string Supported => string.Join(", ", ["hostbridge", .. DeviceFormsRegistry.All.SelectMany(f => f.BhyveEmulations), "lpc"]);

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
            case var _ when DeviceFormsRegistry.ForBhyveEmulation(emulation) is { } forms:
                CheckDeviceSlot(slot, label);
                return new BhyveSlot(slot, BhyveEmulation.Device, forms.ParseBhyve(label, conf, slot));
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
}
