namespace Bhyve.Aot.Vmm;

/// <summary>
/// Where each PCI device of a VmConfig sits on bus 0: the host bridge at slot 0, devices with a chosen slot there,
/// the rest in the lowest slots nobody chose, disks first, then NVMe controllers, each in configuration order.
/// Only function 0 of each slot is used.
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

    /// <summary>The slot of every disk and NVMe controller; throws ConfigException when two devices want one slot.</summary>
    public static (int[] Disks, int[] Nvme) Assign(VmConfig config)
    {
        var owner = new string?[Last + 1];
        owner[HostBridge] = "the host bridge";
        void Claim(int? slot, string who)
        {
            if (slot is not { } s) return;
            Check(s, who);
            if (owner[s] is { } other) throw new ConfigException($"PCI slot {s} is given twice ({other} and {who})");
            owner[s] = who;
        }
        foreach (var d in config.Disks) Claim(d.PciSlot, $"disk {d.Path}");
        foreach (var n in config.Nvme) Claim(n.PciSlot, $"nvme {n.Describe()}");

        int next = 1;
        int Place(int? slot, string who)
        {
            if (slot is { } s) return s;
            while (next <= Last && owner[next] is not null) next++;
            if (next > Last) throw new ConfigException($"{who}: no free PCI slot is left");
            owner[next] = who;
            return next;
        }
        var disks = config.Disks.Select(d => Place(d.PciSlot, $"disk {d.Path}")).ToArray();
        var nvme = config.Nvme.Select(n => Place(n.PciSlot, $"nvme {n.Describe()}")).ToArray();
        return (disks, nvme);
    }
}
