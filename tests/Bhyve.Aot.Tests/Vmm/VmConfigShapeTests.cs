using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>
/// VmConfig's hand-written equality and the machine file must know every property. This fails when one is added,
/// so that whoever adds it also extends VmConfig.Equals, Config/MachineFile* and the README's MACHINE FILE section.
/// </summary>
public class VmConfigShapeTests
{
    [Fact]
    public void VmConfig_properties_are_the_ones_equality_and_the_machine_file_know()
    {
        string[] known = ["Name", "KernelPath", "MemoryBytes", "Cpus", "Cmdline", "HugePages", "Devices", "Disks", "Nvme", "InitrdPath", "HvtBlocks", "HvtNets", "GuestArgs", "CpuidHide", "MessagePrefix"];
        var actual = typeof(VmConfig).GetProperties().Select(p => p.Name).Where(n => n != "EqualityContract").Order().ToArray();
        Assert.True(known.Order().SequenceEqual(actual),
            $"VmConfig has [{string.Join(", ", actual.Except(known))}] new and [{string.Join(", ", known.Except(actual))}] gone: "
            + "update VmConfig.Equals, Config/MachineFile.cs, MachineFileReader/Writer, the README's MACHINE FILE section, then this list");
    }

    [Fact]
    public void DiskConfig_and_NvmeConfig_properties_are_the_ones_the_machine_file_knows()
    {
        // Kind and Who come from IDeviceConfig: computed, not settings.
        string[] fromInterface = ["Kind", "Who"];
        Assert.Equal(["Create", "CreateSize", "Direct", "Discard", "Lock", "Path", "PciSlot", "QueueSize", "Queues", "ReadOnly", "Serial"],
            typeof(DiskConfig).GetProperties().Select(p => p.Name).Except(fromInterface).Order());
        Assert.Equal(["Create", "CreateSize", "Direct", "Dsm", "Path", "PciSlot", "QueueSize", "Queues", "RamBytes", "ReadOnly", "SectorSize", "Serial"],
            typeof(NvmeConfig).GetProperties().Select(p => p.Name).Except(fromInterface).Order());
    }

    [Fact]
    public void Equality_covers_lists_by_content_and_each_scalar()
    {
        var a = new VmConfig { KernelPath = "k", Disks = [new DiskConfig { Path = "a" }], GuestArgs = ["x"] };
        var b = new VmConfig { KernelPath = "k", Disks = [new DiskConfig { Path = "a" }], GuestArgs = ["x"] };
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Disks = [new DiskConfig { Path = "a", PciSlot = 2 }] });
        Assert.NotEqual(a, b with { GuestArgs = ["y"] });
        Assert.NotEqual(a, b with { Name = "n" });
        Assert.NotEqual(a, b with { Cpus = 2 });
        Assert.NotEqual(a, b with { MemoryBytes = 128UL << 20 });
        Assert.NotEqual(a, b with { Cmdline = "c" });
        Assert.NotEqual(a, b with { HugePages = true });
        Assert.NotEqual(a, b with { InitrdPath = "i" });
        Assert.NotEqual(a, b with { KernelPath = "j" });
        Assert.NotEqual(a, b with { Nvme = [new NvmeConfig { RamBytes = 4096 }] });
        Assert.NotEqual(a, b with { HvtBlocks = [new HvtDeviceConfig("s", "t")] });
        Assert.NotEqual(a, b with { HvtNets = [new HvtDeviceConfig("s", "t")] });
        Assert.NotEqual(a, b with { CpuidHide = [Bhyve.Aot.Kvm.CpuidFeature.All[0]] });
    }

    [Theory]
    [InlineData("myvm")]
    [InlineData("vm-1.test_2")]
    [InlineData("A")]
    public void Good_names(string name) => (new VmConfig { KernelPath = "k", Name = name }).Validate();

    [Theory]
    [InlineData("")]
    [InlineData("-vm")]
    [InlineData(".vm")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("é")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345")]
    public void Bad_names_are_refused(string name) =>
        Assert.Contains("VM name", Assert.Throws<ConfigException>(() => new VmConfig { KernelPath = "k", Name = name }.Validate()).Message);
}
