using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// A 64-byte submission queue entry, copied out of guest memory once and decoded from the copy, so a guest
/// rewriting the slot while we validate it changes nothing (no TOCTOU). Field names follow NVMe 1.4 §4.2.
/// </summary>
public readonly struct NvmeSubmission
{
    public const int Size = 64;

    public readonly uint Dw0, Nsid;
    public readonly ulong Mptr, Prp1, Prp2;
    public readonly uint Cdw10, Cdw11, Cdw12, Cdw13, Cdw14, Cdw15;

    public NvmeSubmission(ReadOnlySpan<byte> e)
    {
        Dw0 = BinaryPrimitives.ReadUInt32LittleEndian(e);
        Nsid = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
        Mptr = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
        Prp1 = BinaryPrimitives.ReadUInt64LittleEndian(e[24..]);
        Prp2 = BinaryPrimitives.ReadUInt64LittleEndian(e[32..]);
        Cdw10 = BinaryPrimitives.ReadUInt32LittleEndian(e[40..]);
        Cdw11 = BinaryPrimitives.ReadUInt32LittleEndian(e[44..]);
        Cdw12 = BinaryPrimitives.ReadUInt32LittleEndian(e[48..]);
        Cdw13 = BinaryPrimitives.ReadUInt32LittleEndian(e[52..]);
        Cdw14 = BinaryPrimitives.ReadUInt32LittleEndian(e[56..]);
        Cdw15 = BinaryPrimitives.ReadUInt32LittleEndian(e[60..]);
    }

    public byte Opcode => (byte)Dw0;
    /// <summary>Fused operation (bits 9:8); we support none.</summary>
    public int Fuse => (int)(Dw0 >> 8) & 3;
    /// <summary>PRP or SGL (bits 15:14); we advertise no SGLs, so only 0 is valid.</summary>
    public int Psdt => (int)(Dw0 >> 14) & 3;
    public ushort CommandId => (ushort)(Dw0 >> 16);

    // NVM command set (Read, Write, Write Zeroes): SLBA in CDW11:CDW10, 0-based NLB in CDW12[15:0].
    public ulong StartLba => Cdw10 | ((ulong)Cdw11 << 32);
    public uint BlockCount => (Cdw12 & 0xFFFF) + 1;
    public bool ForceUnitAccess => (Cdw12 & (1u << 30)) != 0;
    public bool Deallocate => (Cdw12 & (1u << 25)) != 0;

    /// <summary>Writes an entry (tests and fuzzers build SQEs with it).</summary>
    public static void Encode(Span<byte> e, byte opcode, ushort cid, uint nsid = 0, ulong prp1 = 0, ulong prp2 = 0,
                              uint cdw10 = 0, uint cdw11 = 0, uint cdw12 = 0, uint cdw13 = 0, uint dw0Flags = 0)
    {
        e[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(e, opcode | dw0Flags | ((uint)cid << 16));
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], nsid);
        BinaryPrimitives.WriteUInt64LittleEndian(e[24..], prp1);
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], prp2);
        BinaryPrimitives.WriteUInt32LittleEndian(e[40..], cdw10);
        BinaryPrimitives.WriteUInt32LittleEndian(e[44..], cdw11);
        BinaryPrimitives.WriteUInt32LittleEndian(e[48..], cdw12);
        BinaryPrimitives.WriteUInt32LittleEndian(e[52..], cdw13);
    }
}
