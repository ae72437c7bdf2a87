namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// Configuration mechanism #1: a 32-bit address register at 0xCF8 (enable, bus, device, function,
/// register) and a data window at 0xCFC-0xCFF. Registered as one 8-port range at 0xCF8.
/// </summary>
public sealed class PciConfigPorts(PciRoot root) : Bus.IBusDevice
{
    public const ushort BasePort = 0xCF8;
    public const int PortCount = 8;
    private const uint Enable = 0x8000_0000;
    private uint _address;

    public void Read(ulong offset, Span<byte> data)
    {
        if (offset < 4)
        {
            if (offset == 0 && data.Length == 4) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data, _address);
            else data.Fill(0xFF);
            return;
        }
        if (!Decode(offset, data.Length, out int bus, out int dev, out int fn, out int reg)) { data.Fill(0xFF); return; }
        root.ConfigRead(bus, dev, fn, reg, data);
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset < 4)
        {
            // Only a full dword write to 0xCF8 sets the address (byte writes there are other PC registers).
            if (offset == 0 && data.Length == 4) _address = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data);
            return;
        }
        if (Decode(offset, data.Length, out int bus, out int dev, out int fn, out int reg)) root.ConfigWrite(bus, dev, fn, reg, data);
    }

    private bool Decode(ulong offset, int length, out int bus, out int device, out int function, out int register)
    {
        uint a = _address;
        bus = (int)((a >> 16) & 0xFF);
        device = (int)((a >> 11) & 0x1F);
        function = (int)((a >> 8) & 0x7);
        register = (int)(a & 0xFC) + (int)(offset - 4);
        return (a & Enable) != 0 && register + length <= 0x100;
    }
}
