using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>bhyve's `-s slot[:func],emulation[,conf]`: each emulation's options, and each refusal naming the slot and option.</summary>
public class BhyveSlotOptionTests
{
    private static string Refusal(string text) => Assert.Throws<ConfigException>(() => BhyveSlot.Parse(text)).Message;

    [Theory]
    [InlineData("0,hostbridge")]
    [InlineData("0:0,hostbridge")]
    [InlineData("0:0:0,hostbridge")]
    [InlineData("0,amd_hostbridge")]
    public void Host_bridge_at_slot_0(string text) => Assert.Equal(new BhyveSlot(0, BhyveEmulation.HostBridge), BhyveSlot.Parse(text));

    [Fact]
    public void Lpc_is_accepted_and_holds_no_device() => Assert.Equal(new BhyveSlot(31, BhyveEmulation.Lpc), BhyveSlot.Parse("31,lpc"));

    [Fact]
    public void Virtio_blk_reads_bhyve_options()
    {
        var s = BhyveSlot.Parse("4:0,virtio-blk,/images/d.img,ro,nocache,nodelete,ser=SER1");
        Assert.Equal(4, s.Slot);
        Assert.Equal(new DiskConfig { Path = "/images/d.img", ReadOnly = true, Direct = true, Discard = DiscardMode.Ignore, Serial = "SER1", PciSlot = 4 }, s.Disk);
        Assert.Null(s.Nvme);
    }

    [Theory]
    [InlineData("2,virtio-blk,a.img", DiscardMode.Unmap)]
    [InlineData("2,virtio-blk,a.img,discard", DiscardMode.Unmap)]
    [InlineData("2,virtio-blk,a.img,discard=ignore", DiscardMode.Ignore)]
    [InlineData("2,virtio-blk,a.img,nodelete", DiscardMode.Ignore)]
    [InlineData("2,virtio-blk,a.img,nodelete=off", DiscardMode.Unmap)]
    public void Virtio_blk_discard_knobs(string text, DiscardMode mode) => Assert.Equal(mode, BhyveSlot.Parse(text).Disk!.Discard);

    [Fact]
    public void Virtio_blk_takes_bhyve_aot_keys_too()
    {
        var d = BhyveSlot.Parse("2,virtio-blk,path=a.img,queues=4,queue-size=128,size=1G,create,readonly=off").Disk!;
        Assert.Equal(new DiskConfig { Path = "a.img", Queues = 4, QueueSize = 128, Create = true, CreateSize = 1UL << 30, PciSlot = 2 }, d);
    }

    [Fact]
    public void Nvme_reads_bhyve_options()
    {
        var n = BhyveSlot.Parse("3,nvme,data.img,maxq=4,qsz=256,ioslots=16,sectsz=4096,ser=NVME1,dsm=enable,ro,nocache").Nvme!;
        Assert.Equal(new NvmeConfig
        {
            Path = "data.img",
            Queues = 4,
            QueueSize = 256,
            SectorSize = 4096,
            Serial = "NVME1",
            Dsm = DsmMode.Enable,
            ReadOnly = true,
            Direct = true,
            PciSlot = 3,
        }, n);
    }

    [Theory]
    [InlineData("3,nvme,ram=256", 256UL << 20)]   // bhyve: ram= is in MiB
    [InlineData("3,nvme,ram=1G", 1UL << 30)]
    public void Nvme_ram_namespace(string text, ulong bytes)
    {
        var n = BhyveSlot.Parse(text).Nvme!;
        Assert.Null(n.Path);
        Assert.Equal(bytes, n.RamBytes);
    }

    [Theory]
    [InlineData("2", "-s 2: expected slot[:func],emulation[,options]")]
    [InlineData("2,", "-s 2,: no emulation named")]
    [InlineData("x,virtio-blk,a.img", "-s x,virtio-blk: 'x' is not a PCI slot")]
    [InlineData("1:2:3:4,virtio-blk,a.img", "is not a PCI slot")]
    [InlineData("32,virtio-blk,a.img", "-s 32,virtio-blk: PCI slot 32 is out of range (0..31)")]
    [InlineData("2:1,virtio-blk,a.img", "-s 2:1,virtio-blk: PCI function 1 is not supported")]
    [InlineData("1:2:0,virtio-blk,a.img", "-s 1:2:0,virtio-blk: PCI bus 1 does not exist")]
    [InlineData("0,virtio-blk,a.img", "-s 0,virtio-blk: slot 0 is the host bridge's")]
    [InlineData("0,nvme,a.img", "-s 0,nvme: slot 0 is the host bridge's")]
    [InlineData("0,lpc", "-s 0,lpc: slot 0 is the host bridge's")]
    [InlineData("3,hostbridge", "-s 3,hostbridge: the host bridge sits at slot 0")]
    [InlineData("0,hostbridge,vendor=1", "-s 0,hostbridge: the host bridge takes no options")]
    [InlineData("31,lpc,x", "-s 31,lpc: lpc takes no options")]
    [InlineData("4,virtio-net,tap0", "-s 4,virtio-net: bhyve-aot does not emulate virtio-net")]
    [InlineData("4,ahci-hd,a.img", "-s 4,ahci-hd: bhyve-aot does not emulate ahci-hd")]
    [InlineData("4,frob", "-s 4,frob: unknown emulation 'frob' (supported: hostbridge, virtio-blk, nvme, lpc)")]
    [InlineData("2,virtio-blk", "-s 2,virtio-blk: no backing file")]
    [InlineData("2,virtio-blk,ro", "-s 2,virtio-blk: no backing file")]
    [InlineData("2,virtio-blk,a.img,bogus", "-s 2,virtio-blk: unknown option 'bogus'")]
    [InlineData("2,virtio-blk,a.img,direct", "-s 2,virtio-blk: direct (O_SYNC writes) is not supported")]
    [InlineData("2,virtio-blk,a.img,sync", "-s 2,virtio-blk: sync (O_SYNC writes)")]
    [InlineData("2,virtio-blk,a.img,sectorsize=4096", "-s 2,virtio-blk: sectorsize is not supported")]
    [InlineData("2,virtio-blk,a.img,discard=trim", "-s 2,virtio-blk discard=trim: expected unmap, ignore, on or off")]
    [InlineData("2,virtio-blk,a.img,ro=maybe", "-s 2,virtio-blk ro=maybe: expected on or off")]
    [InlineData("2,virtio-blk,a.img,ser=ABCDEFGHIJKLMNOPQRSTU", "-s 2,virtio-blk ser=ABCDEFGHIJKLMNOPQRSTU: at most 20")]
    [InlineData("2,virtio-blk,a.img,queues=17", "-s 2,virtio-blk queues=17: expected 1..16")]
    [InlineData("2,virtio-blk,a.img,queue-size=100", "-s 2,virtio-blk queue-size=100: must be a power of two")]
    [InlineData("2,virtio-blk,a.img,create", "-s 2,virtio-blk: create needs size=")]
    [InlineData("2,virtio-blk,a.img,size=1G", "-s 2,virtio-blk: size= is only used with create")]
    [InlineData("3,nvme", "-s 3,nvme: no backing store")]
    [InlineData("3,nvme,a.img,ram=64", "-s 3,nvme: a path and ram= exclude each other")]
    [InlineData("3,nvme,ram=0", "-s 3,nvme ram=0: expected a size in MiB")]
    [InlineData("3,nvme,ram=1001K", "-s 3,nvme ram=1001K: expected a size in MiB")]
    [InlineData("3,nvme,ram=64,ro", "-s 3,nvme: ram= cannot be nocache or ro")]
    [InlineData("3,nvme,a.img,maxq=0", "-s 3,nvme maxq=0: expected 1..64")]
    [InlineData("3,nvme,a.img,qsz=1", "-s 3,nvme qsz=1: expected 2..4096")]
    [InlineData("3,nvme,a.img,ioslots=0", "-s 3,nvme ioslots=0: expected 1..65535")]
    [InlineData("3,nvme,a.img,sectsz=8192", "-s 3,nvme sectsz=8192: expected 512 or 4096")]
    [InlineData("3,nvme,a.img,sectsz=1024", "-s 3,nvme sectsz=1024: expected 512 or 4096")]
    [InlineData("3,nvme,a.img,dsm=maybe", "-s 3,nvme dsm=maybe: expected auto, enable or disable")]
    [InlineData("3,nvme,a.img,eui64=12345", "-s 3,nvme: eui64 is not supported")]
    [InlineData("3,nvme,a.img,direct", "-s 3,nvme: direct (O_SYNC writes) is not supported")]
    [InlineData("3,nvme,a.img,foo=1", "-s 3,nvme: unknown option 'foo'")]
    [InlineData("3,nvme,a.img,create", "-s 3,nvme: create needs size=")]
    public void Refusals_name_the_slot_and_the_option(string text, string message) => Assert.Contains(message, Refusal(text));
}
