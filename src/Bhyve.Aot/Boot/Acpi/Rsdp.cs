using System.Buffers.Binary;
using System.Text;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The Root System Description Pointer, ACPI 2.0+ form (36 bytes, ACPI 6.x 5.2.5.3): points at the XSDT.
/// Two checksums: the first 20 bytes (ACPI 1.0 part) and all 36.
/// </summary>
public static class Rsdp
{
    public const int Size = 36;
    public const string Signature = "RSD PTR ";

    public static byte[] Build(ulong xsdtAddress)
    {
        var r = new byte[Size];
        Encoding.ASCII.GetBytes(Signature, r);
        Encoding.ASCII.GetBytes(AcpiTable.OemId, r.AsSpan(9, 6));
        r[15] = 2; // revision 2: the XSDT fields are valid
        // RsdtAddress (offset 16) stays 0: we offer only the XSDT, which every ACPI 2.0+ OS prefers.
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(20), Size);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(24), xsdtAddress);
        AcpiTable.Seal(r.AsSpan(0, 20), 8);
        AcpiTable.Seal(r, 32);
        return r;
    }
}
