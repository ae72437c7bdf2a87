using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>An ACPI Generic Address Structure (12 bytes, ACPI 6.x 5.2.3.2): where a register lives.</summary>
public readonly record struct GenericAddress(byte SpaceId, byte BitWidth, byte BitOffset, byte AccessSize, ulong Address)
{
    public const int Size = 12;
    public const byte SystemMemory = 0, SystemIo = 1;
    public const byte ByteAccess = 1;

    /// <summary>A byte-wide register on an I/O port.</summary>
    public static GenericAddress IoByte(ushort port) => new(SystemIo, 8, 0, ByteAccess, port);

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = SpaceId;
        destination[1] = BitWidth;
        destination[2] = BitOffset;
        destination[3] = AccessSize;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], Address);
    }
}
