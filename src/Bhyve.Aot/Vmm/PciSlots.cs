namespace Bhyve.Aot.Vmm;

/// <summary>
/// Where each PCI device of a VmConfig sits on bus 0: the host bridge at slot 0, devices with a chosen slot there,
/// the rest in the lowest slots nobody chose, in the order of <see cref="VmConfig.Devices"/> (kinds in registry
/// order: disks first, then NVMe controllers; each kind in configuration order). Only function 0 of each slot is used.
/// </summary>
public static class PciSlots
{
    public const int HostBridge = 0;
    public const int Last = 31;

    /// <summary>A chosen slot must be 1..31: 0 belongs to the host bridge.</summary>
    public static void Check(int? slot, string who)
    {
        if (slot == HostBridge) throw new ConfigException($"{who}: PCI slot 0 is the host bridge's");
        if (slot is < 1 or > Last) throw new ConfigException($"{who}: PCI slot {slot} is out of range (1..{Last})");
    }

    /// <summary>The slot of every device, index for index with <see cref="VmConfig.Devices"/>; throws ConfigException when two devices want one slot.</summary>
    public static int[] Assign(VmConfig config)
    {
        var owner = new string?[Last + 1];
        owner[HostBridge] = "the host bridge";
        foreach (var d in config.Devices)
        {
            if (d.PciSlot is not { } s) continue;
            Check(s, d.Who);
            if (owner[s] is { } other) throw new ConfigException($"PCI slot {s} is given twice ({other} and {d.Who})");
            owner[s] = d.Who;
        }

        int next = 1;
        var slots = new int[config.Devices.Count];
        for (int i = 0; i < slots.Length; i++)
        {
            var d = config.Devices[i];
            if (d.PciSlot is { } s) { slots[i] = s; continue; }
            while (next <= Last && owner[next] is not null) next++;
            if (next > Last) throw new ConfigException($"{d.Who}: no free PCI slot is left");
            owner[next] = d.Who;
            slots[i] = next;
        }
        return slots;
    }

    /// <summary>The slot of one device of the configuration (compared by reference).</summary>
    public static int SlotOf(VmConfig config, int[] slots, IDeviceConfig device)
    {
        for (int i = 0; i < config.Devices.Count; i++) if (ReferenceEquals(config.Devices[i], device)) return slots[i];
        throw new ArgumentException($"{device.Who} is not a device of this configuration", nameof(device));
    }
}
