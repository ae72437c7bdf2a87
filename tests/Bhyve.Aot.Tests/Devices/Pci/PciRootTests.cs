using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Memory;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>Slots and BAR placement: natural alignment, no overlap, all inside the 32-bit MMIO window.</summary>
public sealed class PciRootTests
{
    [Fact]
    public void BARs_are_naturally_aligned_disjoint_and_inside_the_window()
    {
        var root = new PciRoot(new IoBus("mmio"));
        var devices = new[]
        {
            new TestPciDevice(new PciBar(0, 0x1000, false), new PciBar(2, 0x10_0000, true)),
            new TestPciDevice(new PciBar(0, 0x8000, true), new PciBar(4, 0x2000, false)),
            new TestPciDevice(new PciBar(1, 0x40_0000, false)),
        };
        for (int i = 0; i < devices.Length; i++) root.Attach(i + 1, devices[i]);

        var placed = new List<(ulong Start, ulong Size)>();
        foreach (var d in devices)
            foreach (var bar in d.Bars)
            {
                ulong at = d.BarAddress(bar.Index);
                Assert.Equal(0UL, at % bar.Size);
                Assert.True(at >= GuestLayout.PciMmioWindowStart && at + bar.Size <= GuestLayout.PciMmioWindowStart + GuestLayout.PciMmioWindowSize);
                Assert.DoesNotContain(placed, p => at < p.Start + p.Size && p.Start < at + bar.Size);
                placed.Add((at, bar.Size));
            }
    }

    [Fact]
    public void A_full_window_is_refused()
    {
        var root = new PciRoot(new IoBus("mmio"));
        root.Attach(1, new TestPciDevice(new PciBar(0, GuestLayout.PciMmioWindowSize / 2, false)));
        root.Attach(2, new TestPciDevice(new PciBar(0, GuestLayout.PciMmioWindowSize / 2, false)));
        Assert.Throws<InvalidOperationException>(() => root.Attach(3, new TestPciDevice(new PciBar(0, 0x1000, false))));
    }

    [Fact]
    public void Slots_are_checked()
    {
        var root = new PciRoot(new IoBus("mmio"));
        root.Attach(0, new PciHostBridge());
        root.Attach(1, new TestPciDevice());
        Assert.Throws<InvalidOperationException>(() => root.Attach(1, new TestPciDevice()));
        Assert.Throws<ArgumentOutOfRangeException>(() => root.Attach(32, new TestPciDevice()));
        Assert.IsType<PciHostBridge>(root[0]);
        Assert.Null(root[5]);
    }

    [Fact]
    public void The_host_bridge_is_class_06_00()
    {
        var root = new PciRoot(new IoBus("mmio"));
        root.Attach(0, new PciHostBridge());
        var data = new byte[4];
        root.ConfigRead(0, 0, 0, PciConfigSpace.RevisionId, data);
        Assert.Equal(0x06, data[3]);
        Assert.Equal(0x00, data[2]);
    }
}
