using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>The device registry: every kind has its file forms, names are unique, and VmConfig keeps devices grouped by kind.</summary>
public class DeviceKindsTests
{
    [Fact]
    public void Every_kind_has_its_forms_and_every_form_a_registered_kind()
    {
        Assert.Equal(DeviceKinds.All, DeviceFormsRegistry.All.Select(f => f.Kind));
        foreach (var kind in DeviceKinds.All) Assert.Same(kind, DeviceFormsRegistry.For(kind).Kind);
    }

    [Fact]
    public void Names_options_and_bhyve_emulations_are_unique()
    {
        Assert.Equal(DeviceKinds.All.Count, DeviceKinds.All.Select(k => k.Name).Distinct().Count());
        Assert.Equal(DeviceKinds.All.Count, DeviceKinds.All.Select(k => k.LongOption).Distinct().Count());
        var emulations = DeviceFormsRegistry.All.SelectMany(f => f.BhyveEmulations).ToArray();
        Assert.Equal(emulations.Length, emulations.Distinct().Count());
    }

    [Fact]
    public void Each_kind_parses_its_own_long_option_into_a_config_of_its_kind()
    {
        IDeviceKind blk = VirtioBlkKind.Instance, nvmeKind = NvmeKind.Instance;
        var disk = blk.Parse("a.img,slot=4");
        Assert.Same(VirtioBlkKind.Instance, disk.Kind);
        Assert.Equal(4, disk.PciSlot);
        Assert.Equal("disk a.img", disk.Who);
        var nvme = nvmeKind.Parse("ram=64M");
        Assert.Same(NvmeKind.Instance, nvme.Kind);
        Assert.Equal("nvme ram=64M", nvme.Who);
    }

    [Fact]
    public void VmConfig_keeps_devices_grouped_in_registry_order_and_in_given_order_within_a_kind()
    {
        var config = new VmConfig
        {
            KernelPath = "k",
            Devices = [new NvmeConfig { Path = "n0" }, new DiskConfig { Path = "d0" }, new NvmeConfig { Path = "n1" }, new DiskConfig { Path = "d1" }],
        };
        Assert.Equal(["disk d0", "disk d1", "nvme n0", "nvme n1"], config.Devices.Select(d => d.Who));
        Assert.Equal(["d0", "d1"], config.Disks.Select(d => d.Path));
        Assert.Equal(["n0", "n1"], config.Nvme.Select(d => d.Path));
        // Setting one kind's view replaces only that kind.
        var fewer = config with { Disks = [new DiskConfig { Path = "x" }] };
        Assert.Equal(["disk x", "nvme n0", "nvme n1"], fewer.Devices.Select(d => d.Who));
    }

    [Fact]
    public void The_per_kind_limit_names_the_kind_and_its_option()
    {
        var config = new VmConfig { KernelPath = "k", Disks = Enumerable.Range(0, 9).Select(i => new DiskConfig { Path = $"d{i}" }).ToArray() };
        Assert.Equal("9 virtio-blk devices given (--disk); at most 8", Assert.Throws<ConfigException>(config.Validate).Message);
    }

    [Fact]
    public void Stats_lines_name_the_kind_and_are_absent_without_devices()
    {
        foreach (var kind in DeviceKinds.All) Assert.Null(kind.Stats([]));
    }
}
