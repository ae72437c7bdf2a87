using System.Buffers.Binary;
using System.Text;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The 36-byte header every ACPI system description table starts with (ACPI 6.x, 5.2.6), and the
/// byte-sum checksum that makes a table's bytes add up to zero.
/// </summary>
public static class AcpiTable
{
    public const int HeaderSize = 36;
    public const string OemId = "BHYVE ";
    public const string OemTableId = "BHYVEAOT";
    public const string CreatorId = "BHAO";
    // Header field offsets.
    public const int LengthOffset = 4, RevisionOffset = 8, ChecksumOffset = 9;

    /// <summary>A table of this length with its header filled in (checksum still zero: call Seal last).</summary>
    public static byte[] Create(string signature, int length, byte revision)
    {
        if (signature.Length != 4) throw new ArgumentException("ACPI signatures have 4 characters", nameof(signature));
        if (length < HeaderSize) throw new ArgumentOutOfRangeException(nameof(length));
        var table = new byte[length];
        Encoding.ASCII.GetBytes(signature, table);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(LengthOffset), (uint)length);
        table[RevisionOffset] = revision;
        Encoding.ASCII.GetBytes(OemId, table.AsSpan(10, 6));
        Encoding.ASCII.GetBytes(OemTableId, table.AsSpan(16, 8));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(24), 1); // OEM revision
        Encoding.ASCII.GetBytes(CreatorId, table.AsSpan(28, 4));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(32), 1); // creator revision
        return table;
    }

    /// <summary>Sets the checksum byte at checksumOffset so that bytes [0, length) sum to zero modulo 256.</summary>
    public static void Seal(Span<byte> bytes, int checksumOffset = ChecksumOffset)
    {
        bytes[checksumOffset] = 0;
        bytes[checksumOffset] = (byte)(0x100 - Sum(bytes));
    }

    public static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes) sum += b;
        return sum;
    }
}
