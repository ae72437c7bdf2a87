namespace Bhyve.Aot.Devices.Pci;

/// <summary>Device 00.0: the host bridge (class 06/00), so guests see a normal root bus. It has no BARs.</summary>
public sealed class PciHostBridge() : PciDevice(new PciConfigSpace(VendorRedHat, DeviceHostBridge, classCode: 0x06, subClass: 0x00, progIf: 0))
{
    public const ushort VendorRedHat = 0x1B36, DeviceHostBridge = 0x0008;

    protected override void BarRead(int index, ulong offset, Span<byte> data) => data.Fill(0xFF);
    protected override void BarWrite(int index, ulong offset, ReadOnlySpan<byte> data) { }
}
