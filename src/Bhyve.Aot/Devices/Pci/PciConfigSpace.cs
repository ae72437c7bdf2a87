using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// The 4 KiB configuration space of one PCI(e) function: its bytes, which bits the guest may write, and
/// which are write-one-to-clear. Capability lists are appended with AddCapability. Not thread-safe: the
/// owning PciDevice serialises access.
/// </summary>
public sealed class PciConfigSpace
{
    public const int Size = 4096;
    public const int VendorId = 0x00, DeviceId = 0x02, Command = 0x04, Status = 0x06, RevisionId = 0x08;
    public const int ClassProgIf = 0x09, SubClass = 0x0A, ClassCode = 0x0B, HeaderType = 0x0E;
    public const int Bar0 = 0x10, SubsystemVendorId = 0x2C, SubsystemId = 0x2E, CapabilitiesPointer = 0x34;
    public const int InterruptLine = 0x3C, InterruptPin = 0x3D;
    public const ushort CommandIo = 1, CommandMemory = 2, CommandBusMaster = 4, CommandIntxDisable = 0x400;
    public const ushort StatusCapabilities = 0x10;
    private const int FirstCapability = 0x40;

    private readonly byte[] _bytes = new byte[Size];
    private readonly byte[] _writable = new byte[Size];
    private readonly byte[] _writeOneToClear = new byte[Size];
    private int _nextCapability = FirstCapability;
    private int _lastCapability;

    public PciConfigSpace(ushort vendor, ushort device, byte classCode, byte subClass, byte progIf, byte revision = 0)
    {
        Set16(VendorId, vendor);
        Set16(DeviceId, device);
        _bytes[RevisionId] = revision;
        _bytes[ClassProgIf] = progIf;
        _bytes[SubClass] = subClass;
        _bytes[ClassCode] = classCode;
        MakeWritable(Command, 2, CommandIo | CommandMemory | CommandBusMaster | CommandIntxDisable);
        MakeWritable(InterruptLine, 1, 0xFF);
        _writeOneToClear[Status + 1] = 0xF9; // error bits of the status register
    }

    public ushort CommandRegister => Get16(Command);

    public byte Get8(int offset) => _bytes[offset];
    public ushort Get16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(offset));
    public uint Get32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(offset));
    public void Set8(int offset, byte value) => _bytes[offset] = value;
    public void Set16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(offset), value);
    public void Set32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_bytes.AsSpan(offset), value);

    /// <summary>Declares which bits of a little-endian field of `length` bytes the guest may change.</summary>
    public void MakeWritable(int offset, int length, ulong mask)
    {
        for (int i = 0; i < length; i++) _writable[offset + i] = (byte)(mask >> (8 * i));
    }

    /// <summary>Appends a capability (id, next pointer, then `body`) to the list; returns its offset.</summary>
    public int AddCapability(byte id, ReadOnlySpan<byte> body)
    {
        int length = 2 + body.Length;
        int offset = _nextCapability;
        if (offset + length > 0x100) throw new InvalidOperationException("PCI capability list is full");
        _bytes[offset] = id;
        _bytes[offset + 1] = 0;
        body.CopyTo(_bytes.AsSpan(offset + 2));
        if (_lastCapability == 0) _bytes[CapabilitiesPointer] = (byte)offset;
        else _bytes[_lastCapability + 1] = (byte)offset;
        _lastCapability = offset;
        _nextCapability = (offset + length + 3) & ~3;
        Set16(Status, (ushort)(Get16(Status) | StatusCapabilities));
        return offset;
    }

    public void Read(int offset, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] = offset + i < Size ? _bytes[offset + i] : (byte)0xFF;
    }

    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length && offset + i < Size; i++)
        {
            int at = offset + i;
            byte clear = (byte)(data[i] & _writeOneToClear[at]);
            byte keep = (byte)(_bytes[at] & ~_writable[at]);
            _bytes[at] = (byte)((keep | (data[i] & _writable[at])) & ~clear);
        }
    }
}
