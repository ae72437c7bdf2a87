using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>The Extended System Description Table (ACPI 6.x 5.2.8): 64-bit addresses of every other table but the DSDT.</summary>
public static class Xsdt
{
    public static byte[] Build(ReadOnlySpan<ulong> tableAddresses)
    {
        var t = AcpiTable.Create("XSDT", AcpiTable.HeaderSize + 8 * tableAddresses.Length, revision: 1);
        for (int i = 0; i < tableAddresses.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(t.AsSpan(AcpiTable.HeaderSize + 8 * i), tableAddresses[i]);
        AcpiTable.Seal(t);
        return t;
    }
}
