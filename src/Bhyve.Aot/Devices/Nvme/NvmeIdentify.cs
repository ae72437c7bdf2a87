using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>The fixed identity of a controller: what Identify Controller reports besides the namespace's abilities.</summary>
public sealed record NvmeIdentity(ushort Vendor, ushort SubsystemVendor, string Serial, string Model, string Firmware,
                                  byte Mdts, ushort ControllerId)
{
    public const string DefaultModel = "Bhyve.Aot NVMe";
    public const string DefaultFirmware = "1.0";
    /// <summary>2^7 pages of 4 KiB: 512 KiB per command, as QEMU's default.</summary>
    public const byte DefaultMdts = 7;

    public ulong MaxTransferBytes => (ulong)NvmeRegisters.PageSize << Mdts;
}

/// <summary>
/// Identify data (CNS 00h namespace, 01h controller, 02h active namespace list, 03h namespace identification
/// descriptors), built into a 4 KiB page at the offsets of NVMe 1.4 §5.15.2.
/// </summary>
public static class NvmeIdentify
{
    public const int Length = 4096;
    public const byte CnsNamespace = 0x00, CnsController = 0x01, CnsActiveNamespaces = 0x02, CnsDescriptors = 0x03;
    public const ushort OacsDoorbellBufferConfig = 1 << 8;
    public const ushort OncsDsm = 1 << 2, OncsWriteZeroes = 1 << 3;

    public static void Controller(Span<byte> page, NvmeIdentity id, NvmeNamespace ns, int maxEntries, bool shadowDoorbells)
    {
        page.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(page[0..], id.Vendor);
        BinaryPrimitives.WriteUInt16LittleEndian(page[2..], id.SubsystemVendor);
        Ascii(page.Slice(4, 20), id.Serial);
        Ascii(page.Slice(24, 40), id.Model);
        Ascii(page.Slice(64, 8), id.Firmware);
        page[72] = 6;                                     // RAB: recommended arbitration burst
        page[77] = id.Mdts;
        BinaryPrimitives.WriteUInt16LittleEndian(page[78..], id.ControllerId);
        BinaryPrimitives.WriteUInt32LittleEndian(page[80..], NvmeRegisters.Version14);
        page[111] = 1;                                    // CNTRLTYPE: I/O controller
        BinaryPrimitives.WriteUInt16LittleEndian(page[256..], shadowDoorbells ? OacsDoorbellBufferConfig : (ushort)0);
        page[258] = 3;                                    // ACL: 4 Aborts (0-based)
        page[259] = NvmeFeatures.AsyncEventLimit;         // AERL (0-based)
        page[260] = 0x03;                                 // FRMW: slot 1 read-only, 1 slot
        page[261] = 0;                                    // LPA: no per-namespace SMART, no effects log
        BinaryPrimitives.WriteUInt16LittleEndian(page[266..], 0x0157); // WCTEMP 343 K
        BinaryPrimitives.WriteUInt16LittleEndian(page[268..], 0x0175); // CCTEMP 373 K
        BinaryPrimitives.WriteUInt32LittleEndian(page[328..], 1u << 29); // SANICAP: NODMMAS = no media modification
        page[512] = 0x66;                                 // SQES: 64 bytes
        page[513] = 0x44;                                 // CQES: 16 bytes
        BinaryPrimitives.WriteUInt16LittleEndian(page[514..], (ushort)Math.Min(maxEntries, ushort.MaxValue)); // MAXCMD
        BinaryPrimitives.WriteUInt32LittleEndian(page[516..], NvmeNamespace.Id); // NN
        ushort oncs = (ushort)((ns.Dsm && !ns.ReadOnly ? OncsDsm : 0) | (ns.WriteZeroes && !ns.ReadOnly ? OncsWriteZeroes : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(page[520..], oncs);
        page[525] = 0x07;                                 // VWC present; Flush accepts NSID FFFFFFFFh
        BinaryPrimitives.WriteUInt32LittleEndian(page[536..], 0); // SGLS: PRPs only
        Ascii(page.Slice(768, 256), "nqn.2026-11.invalid.bhyve-aot:nvme:" + id.Serial, pad: 0);
        // Power state 0: 25 W (MP in centiwatts), operational.
        BinaryPrimitives.WriteUInt16LittleEndian(page[2048..], 2500);
    }

    public static void Namespace(Span<byte> page, NvmeNamespace ns)
    {
        page.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(page[0..], ns.Blocks);  // NSZE
        BinaryPrimitives.WriteUInt64LittleEndian(page[8..], ns.Blocks);  // NCAP
        BinaryPrimitives.WriteUInt64LittleEndian(page[16..], ns.Blocks); // NUSE
        page[24] = 0;                                                    // NSFEAT
        page[25] = 0;                                                    // NLBAF: one format
        page[26] = 0;                                                    // FLBAS: format 0
        // DLFEAT: deallocated blocks read as zeroes (001b) only if deallocation really zeroes; bit 3: Write Zeroes
        // takes DEAC. Linux sets DEAC only when both hold.
        bool zeroes = ns.Dsm && ns.DeallocateWorks;
        page[33] = (byte)((zeroes ? 0x01 : 0x00) | (zeroes && ns.WriteZeroes ? 0x08 : 0));
        page[99] = ns.ReadOnly ? (byte)1 : (byte)0;                      // NSATTR: write protected
        ns.WriteIdentifiers(page.Slice(104, 16), page.Slice(120, 8));
        BinaryPrimitives.WriteUInt32LittleEndian(page[128..], (uint)ns.LbaShift << 16); // LBAF0: LBADS, no metadata
    }

    /// <summary>Active NSIDs greater than `after`, ascending, zero filled. Only NSID 1 exists.</summary>
    public static void ActiveNamespaces(Span<byte> page, uint after)
    {
        page.Clear();
        if (after < NvmeNamespace.Id) BinaryPrimitives.WriteUInt32LittleEndian(page, NvmeNamespace.Id);
    }

    /// <summary>Descriptors (type, length, 2 reserved, id): EUI-64 then NGUID, as in CNS 00h, then a zero terminator.</summary>
    public static void Descriptors(Span<byte> page, NvmeNamespace ns)
    {
        page.Clear();
        page[0] = 1; page[1] = 8;     // NIDT 1: EUI-64
        page[12] = 2; page[13] = 16;  // NIDT 2: NGUID
        ns.WriteIdentifiers(page.Slice(16, 16), page.Slice(4, 8));
    }

    private static void Ascii(Span<byte> field, string text, byte pad = (byte)' ')
    {
        field.Fill(pad);
        for (int i = 0; i < text.Length && i < field.Length; i++) field[i] = text[i] is >= ' ' and <= '~' ? (byte)text[i] : (byte)'?';
    }
}
