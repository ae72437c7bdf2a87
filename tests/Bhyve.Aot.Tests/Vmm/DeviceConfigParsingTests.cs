using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>The `--disk`, `--nvme`, `--block-device` option lists: what each key sets and how each bad value is refused.</summary>
public class DeviceConfigParsingTests
{
    [Fact]
    public void Disk_keys_set_their_fields()
    {
        var d = DiskConfig.Parse("path=a.img,readonly,discard=ignore,direct,queues=4,queue-size=128,serial=S1");
        Assert.Equal(new DiskConfig { Path = "a.img", ReadOnly = true, Discard = DiscardMode.Ignore, Direct = true, Queues = 4, QueueSize = 128, Serial = "S1" }, d);
        Assert.Equal("b.img", DiskConfig.Parse("b.img,ro").Path);
        Assert.Equal(1UL << 30, DiskConfig.Parse("path=c.img,create,size=1G").CreateSize);
    }

    [Fact]
    public void Slot_key_places_the_device()
    {
        Assert.Equal(7, DiskConfig.Parse("a.img,slot=7").PciSlot);
        Assert.Null(DiskConfig.Parse("a.img").PciSlot);
        Assert.Equal(31, NvmeConfig.Parse("ram=8M,slot=31").PciSlot);
    }

    [Theory]
    [InlineData("path=a.img,slot=0", "--disk slot=0: expected 1..31")]
    [InlineData("path=a.img,slot=32", "--disk slot=32: expected 1..31")]
    [InlineData("path=a.img,bogus=1", "--disk: unknown option 'bogus'")]
    [InlineData("path=a.img,queue-size=100", "--disk queue-size=100: must be a power of two")]
    [InlineData("path=a.img,queues=0", "--disk queues=0: expected 1..16")]
    [InlineData("path=a.img,readonly=maybe", "--disk readonly=maybe: expected on or off")]
    [InlineData("path=a.img,discard=trim", "--disk discard=trim: expected unmap, ignore, on or off")]
    [InlineData("readonly", "--disk: no path")]
    [InlineData("path=", "--disk path= needs a value")]
    [InlineData("path=a.img,size=1G", "size= is only used with create")]
    [InlineData("path=a.img,serial=ABCDEFGHIJKLMNOPQRSTU", "--disk serial=ABCDEFGHIJKLMNOPQRSTU: at most 20")]
    public void Bad_disk_options_are_named(string text, string message) =>
        Assert.Contains(message, Assert.Throws<ConfigException>(() => DiskConfig.Parse(text)).Message);

    [Fact]
    public void Nvme_keys_set_their_fields()
    {
        var n = NvmeConfig.Parse("path=d.img,readonly,dsm=disable,queues=4,queue-size=64,sector-size=4096,serial=NV1,direct");
        Assert.Equal(new NvmeConfig { Path = "d.img", ReadOnly = true, Dsm = DsmMode.Disable, Queues = 4, QueueSize = 64, SectorSize = 4096, Serial = "NV1", Direct = true }, n);
        var ram = NvmeConfig.Parse("ram=64M");
        Assert.Null(ram.Path);
        Assert.Equal(64UL << 20, ram.RamBytes);
        Assert.Equal("ram=64M", ram.Describe());
        Assert.Equal(DsmMode.Auto, NvmeConfig.Parse("e.img").Dsm);
    }

    [Theory]
    [InlineData("path=a.img,sector-size=1024", "--nvme sector-size=1024: expected 512 or 4096")]
    [InlineData("path=a.img,dsm=maybe", "--nvme dsm=maybe: expected auto, enable or disable")]
    [InlineData("path=a.img,queues=65", "--nvme queues=65: expected 1..64")]
    [InlineData("path=a.img,queue-size=1", "--nvme queue-size=1: expected 2..4096")]
    [InlineData("path=a.img,ram=1G", "exclude each other")]
    [InlineData("ram=1000B", "--nvme ram=1000B: expected a non-zero multiple of 4096")]
    [InlineData("ram=1M,readonly", "cannot be direct or readonly")]
    [InlineData("dsm=auto", "--nvme: no backing store")]
    [InlineData("path=a.img,maxq=2", "--nvme: unknown option 'maxq'")]
    [InlineData("path=a.img,create", "create needs size=")]
    public void Bad_nvme_options_are_named(string text, string message) =>
        Assert.Contains(message, Assert.Throws<ConfigException>(() => NvmeConfig.Parse(text)).Message);

    [Theory]
    [InlineData("storage=/tmp/disk.img", "storage", "/tmp/disk.img")]
    [InlineData("net0=tap0", "net0", "tap0")]
    public void Hvt_devices_are_name_and_target(string text, string name, string target) =>
        Assert.Equal(new HvtDeviceConfig(name, target), HvtDeviceConfig.Parse("--block-device", text));

    [Theory]
    [InlineData("noequals")]
    [InlineData("=path")]
    [InlineData("name=")]
    [InlineData("bad-name=x")]
    public void Bad_hvt_devices_are_refused(string text) =>
        Assert.Contains("--block-device", Assert.Throws<ConfigException>(() => HvtDeviceConfig.Parse("--block-device", text)).Message);

    [Fact]
    public void The_same_hvt_name_twice_is_refused()
    {
        var c = new VmConfig { KernelPath = "k", HvtBlocks = [new("a", "x")], HvtNets = [new("a", "tap0")] };
        Assert.Contains("'a' is given more than once", Assert.Throws<ConfigException>(c.Validate).Message);
    }
}
