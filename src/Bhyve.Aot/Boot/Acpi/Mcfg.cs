using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>The PCI Express memory-mapped configuration table (PCI Firmware spec 3.x, 4.1.2): where ECAM lives.</summary>
public static class Mcfg
{
    public const int EntryOffset = AcpiTable.HeaderSize + 8;
    public const int EntrySize = 16;

    public static byte[] Build(ulong ecamBase, ushort segment, byte startBus, byte endBus)
    {
        var t = AcpiTable.Create("MCFG", EntryOffset + EntrySize, revision: 1);
        var e = t.AsSpan(EntryOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(e, ecamBase);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], segment);
        e[10] = startBus;
        e[11] = endBus;
        AcpiTable.Seal(t);
        return t;
    }
}
