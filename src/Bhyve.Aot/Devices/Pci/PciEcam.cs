using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// PCI Express enhanced configuration access (ECAM): 4 KiB of config space per function, mapped at
/// GuestLayout.EcamStart as on QEMU microvm, so one guest finds its devices the same way on both VMMs.
/// </summary>
public sealed class PciEcam(PciRoot root) : Bus.IBusDevice
{
    public const ulong Base = GuestLayout.EcamStart;
    public const ulong Size = GuestLayout.EcamSize;

    public void Read(ulong offset, Span<byte> data)
    {
        if (!Decode(offset, data.Length, out int bus, out int dev, out int fn, out int reg)) { data.Fill(0xFF); return; }
        root.ConfigRead(bus, dev, fn, reg, data);
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (Decode(offset, data.Length, out int bus, out int dev, out int fn, out int reg)) root.ConfigWrite(bus, dev, fn, reg, data);
    }

    private static bool Decode(ulong offset, int length, out int bus, out int device, out int function, out int register)
    {
        bus = (int)(offset >> 20) & 0xFF;
        device = (int)(offset >> 15) & 0x1F;
        function = (int)(offset >> 12) & 0x7;
        register = (int)(offset & 0xFFF);
        // An access must be naturally aligned and stay inside one function's space.
        return (register & (length - 1)) == 0 && register + length <= PciConfigSpace.Size;
    }
}
