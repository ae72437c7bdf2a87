using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// Builds an ACPI resource template (ACPI 6.x 6.4): the byte stream of small and large resource
/// descriptors a _CRS buffer holds, closed by an End Tag.
/// </summary>
public sealed class ResourceTemplate
{
    private const byte TypeMemory = 0, TypeIo = 1, TypeBusNumber = 2;
    /// <summary>General flags: producer, positive decode, minimum and maximum address fixed.</summary>
    private const byte ProducerMinMaxFixed = 0x0C;
    private readonly List<byte> _bytes = [];

    /// <summary>IO(Decode16, min, max, alignment, length): a fixed range of I/O ports a device decodes.</summary>
    public ResourceTemplate Io(ushort min, ushort max, byte alignment, byte length)
    {
        Span<byte> d = stackalloc byte[8];
        d[0] = 0x47;
        d[1] = 1; // 16-bit decode
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], min);
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], max);
        d[6] = alignment;
        d[7] = length;
        _bytes.AddRange(d.ToArray());
        return this;
    }

    /// <summary>IRQNoFlags() { irq }: an edge-triggered, active-high ISA interrupt.</summary>
    public ResourceTemplate Irq(int irq)
    {
        if ((uint)irq > 15) throw new ArgumentOutOfRangeException(nameof(irq));
        _bytes.Add(0x22);
        _bytes.Add((byte)(1 << irq));
        _bytes.Add((byte)((1 << irq) >> 8));
        return this;
    }

    /// <summary>Memory32Fixed(ReadWrite, base, length).</summary>
    public ResourceTemplate Memory32Fixed(uint address, uint length)
    {
        Span<byte> d = stackalloc byte[12];
        d[0] = 0x86;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 9);
        d[3] = 1; // read/write
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        _bytes.AddRange(d.ToArray());
        return this;
    }

    /// <summary>WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count).</summary>
    public ResourceTemplate WordBusNumber(ushort min, ushort max) => WordAddress(TypeBusNumber, 0, min, max);

    /// <summary>WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, count).</summary>
    public ResourceTemplate WordIo(ushort min, ushort max) => WordAddress(TypeIo, 3, min, max);

    /// <summary>DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0, min, max, 0, length).</summary>
    public ResourceTemplate DWordMemory(uint min, uint max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max));
        Span<byte> d = stackalloc byte[26];
        d[0] = 0x87;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 23);
        d[3] = TypeMemory;
        d[4] = ProducerMinMaxFixed;
        d[5] = 1; // read/write, non-cacheable
        BinaryPrimitives.WriteUInt32LittleEndian(d[6..], 0); // granularity
        BinaryPrimitives.WriteUInt32LittleEndian(d[10..], min);
        BinaryPrimitives.WriteUInt32LittleEndian(d[14..], max);
        BinaryPrimitives.WriteUInt32LittleEndian(d[18..], 0); // translation
        BinaryPrimitives.WriteUInt32LittleEndian(d[22..], max - min + 1);
        _bytes.AddRange(d.ToArray());
        return this;
    }

    /// <summary>The descriptors followed by an End Tag whose checksum byte is 0 ("treat as summed").</summary>
    /// <summary>
    /// Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) { gsi }: the Extended Interrupt descriptor
    /// (ACPI 6.x 6.4.3.6), the form a Generic Event Device's _CRS takes.
    /// </summary>
    public ResourceTemplate ExtendedInterruptLevelHigh(uint gsi)
    {
        Span<byte> d = stackalloc byte[9];
        d[0] = 0x89;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 6);
        d[3] = 0x01;  // consumer; level-triggered (bit 1 clear), active high (bit 2 clear), exclusive, not wake-capable
        d[4] = 1;     // one interrupt
        BinaryPrimitives.WriteUInt32LittleEndian(d[5..], gsi);
        _bytes.AddRange(d.ToArray());
        return this;
    }

    public byte[] ToArray() => [.. _bytes, 0x79, 0x00];

    private ResourceTemplate WordAddress(byte type, byte typeFlags, ushort min, ushort max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max));
        Span<byte> d = stackalloc byte[16];
        d[0] = 0x88;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 13);
        d[3] = type;
        d[4] = ProducerMinMaxFixed;
        d[5] = typeFlags;
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], 0); // granularity
        BinaryPrimitives.WriteUInt16LittleEndian(d[8..], min);
        BinaryPrimitives.WriteUInt16LittleEndian(d[10..], max);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], 0); // translation
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)(max - min + 1));
        _bytes.AddRange(d.ToArray());
        return this;
    }
}
