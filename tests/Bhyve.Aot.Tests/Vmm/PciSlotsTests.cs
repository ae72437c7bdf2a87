using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>PCI slot assignment: chosen slots are kept, the rest fill the lowest free slots, clashes are refused.</summary>
public class PciSlotsTests
{
    private static VmConfig With(int?[] disks, int?[] nvme) => new()
    {
        KernelPath = "k",
        Disks = disks.Select((s, i) => new DiskConfig { Path = $"d{i}.img", PciSlot = s }).ToArray(),
        Nvme = nvme.Select((s, i) => new NvmeConfig { Path = $"n{i}.img", PciSlot = s }).ToArray(),
    };

    /// <summary>The slots of the disks, then of the controllers: VmConfig.Devices keeps kinds in registry order.</summary>
    private static (int[] Disks, int[] Nvme) Split(VmConfig config)
    {
        int[] slots = PciSlots.Assign(config);
        return (slots[..config.Disks.Count], slots[config.Disks.Count..]);
    }

    [Fact]
    public void Without_choices_disks_then_controllers_take_slots_from_1()
    {
        var (disks, nvme) = Split(With([null, null], [null]));
        Assert.Equal([1, 2], disks);
        Assert.Equal([3], nvme);
    }

    [Fact]
    public void Chosen_slots_are_kept_and_skipped_by_the_others()
    {
        var (disks, nvme) = Split(With([null, 1, null], [2, null]));
        Assert.Equal([3, 1, 4], disks);
        Assert.Equal([2, 5], nvme);
    }

    [Fact]
    public void The_last_slot_may_be_chosen()
    {
        var (disks, _) = Split(With([31], []));
        Assert.Equal([31], disks);
    }

    [Theory]
    [InlineData(0, "disk d0.img: PCI slot 0 is the host bridge's")]
    [InlineData(32, "disk d0.img: PCI slot 32 is out of range (1..31)")]
    [InlineData(-1, "PCI slot -1 is out of range")]
    public void Bad_slots_are_refused(int slot, string message)
    {
        Assert.Contains(message, Assert.Throws<ConfigException>(() => PciSlots.Assign(With([slot], []))).Message);
        Assert.Contains(message, Assert.Throws<ConfigException>(() => With([slot], []).Validate()).Message);
    }

    [Fact]
    public void Two_devices_in_one_slot_are_refused()
    {
        var e = Assert.Throws<ConfigException>(() => With([5], [5]).Validate());
        Assert.Equal("PCI slot 5 is given twice (disk d0.img and nvme n0.img)", e.Message);
    }
}
