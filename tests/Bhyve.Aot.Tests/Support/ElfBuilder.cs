using System.Buffers.Binary;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// Writes small ELF64 images byte by byte, so every loader check can be driven from a known-good image
/// with one field changed. Layout: header at 0, program headers right after it, then each segment's bytes.
/// </summary>
internal sealed class ElfBuilder
{
    public const uint PtLoad = 1, PtNote = 4;
    public const uint PfX = 1, PfW = 2, PfR = 4;
    public const ulong KernelBase = 0x10_0000;

    public sealed class Segment
    {
        public uint Type = PtLoad;
        public uint Flags = PfR;
        public ulong PhysicalAddress;
        public byte[] Data = [];
        public ulong MemorySize;
        /// <summary>Overrides of what the program header claims, to describe bytes the file does not have.</summary>
        public ulong? FileOffsetOverride, FileSizeOverride;
    }

    public byte Class = 2;          // ELFCLASS64
    public byte Encoding = 1;       // ELFDATA2LSB
    public ushort Type = 2;         // ET_EXEC
    public ushort Machine = 62;     // EM_X86_64
    public ulong Entry = KernelBase;
    public ushort? ProgramHeaderCountOverride;
    public ulong? ProgramHeaderOffsetOverride;
    public List<Segment> Segments { get; } = [];

    public Segment AddLoad(ulong physicalAddress, byte[] data, ulong memorySize, uint flags)
    {
        var s = new Segment { Type = PtLoad, Flags = flags, PhysicalAddress = physicalAddress, Data = data, MemorySize = memorySize };
        Segments.Add(s);
        return s;
    }

    public Segment AddNote(byte[] notes)
    {
        var s = new Segment { Type = PtNote, Flags = PfR, Data = notes, MemorySize = (ulong)notes.Length };
        Segments.Add(s);
        return s;
    }

    /// <summary>One ELF note: namesz, descsz, type, then name and descriptor each padded to 4 bytes.</summary>
    public static byte[] Note(string name, uint type, byte[] descriptor)
    {
        byte[] nameBytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int size = 12 + Align4(nameBytes.Length) + Align4(descriptor.Length);
        var note = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(0), (uint)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)descriptor.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), type);
        nameBytes.CopyTo(note, 12);
        descriptor.CopyTo(note, 12 + Align4(nameBytes.Length));
        return note;
    }

    /// <summary>The XEN_ELFNOTE_PHYS32_ENTRY note (type 18) with a 4-byte entry point.</summary>
    public static byte[] PvhNote(uint entry)
    {
        var desc = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(desc, entry);
        return Note("Xen", 18, desc);
    }

    /// <summary>The same note with an 8-byte entry point (Xen allows either width).</summary>
    public static byte[] PvhNote64(ulong entry)
    {
        var desc = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(desc, entry);
        return Note("Xen", 18, desc);
    }

    /// <summary>Distinct, non-zero bytes, so a copy to the wrong place or of the wrong length shows.</summary>
    public static byte[] Pattern(int length, byte seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(seed + i * 7 + 1 | 1);
        return b;
    }

    /// <summary>
    /// A bootable PVH image in the shape of native/guest's: R+X text at 1 MiB holding the entry, an R+W
    /// data segment with a bss tail, and the PVH note in its own PT_NOTE segment.
    /// </summary>
    public static ElfBuilder Bootable()
    {
        var b = new ElfBuilder { Entry = KernelBase };
        b.AddLoad(KernelBase, Pattern(0x300, 0x11), 0x300, PfR | PfX);
        b.AddLoad(KernelBase + 0x1000, Pattern(0x40, 0x55), 0x2000, PfR | PfW);
        b.AddNote(PvhNote((uint)KernelBase));
        return b;
    }

    public byte[] Build()
    {
        const int headerSize = 64, phSize = 56;
        int phnum = Segments.Count;
        int offset = headerSize + phnum * phSize;
        var offsets = new int[phnum];
        for (int i = 0; i < phnum; i++)
        {
            offset = (offset + 15) & ~15;
            offsets[i] = offset;
            offset += Segments[i].Data.Length;
        }
        var file = new byte[offset];
        var h = file.AsSpan();
        h[0] = 0x7F; h[1] = (byte)'E'; h[2] = (byte)'L'; h[3] = (byte)'F';
        h[4] = Class; h[5] = Encoding; h[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], Entry);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], ProgramHeaderOffsetOverride ?? headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], phSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], ProgramHeaderCountOverride ?? (ushort)phnum);
        for (int i = 0; i < phnum; i++)
        {
            var s = Segments[i];
            var ph = h.Slice(headerSize + i * phSize, phSize);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[0..], s.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], s.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], s.FileOffsetOverride ?? (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], s.PhysicalAddress); // p_vaddr = p_paddr
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], s.PhysicalAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], s.FileSizeOverride ?? (ulong)s.Data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], s.MemorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 16);
            s.Data.CopyTo(file, offsets[i]);
        }
        return file;
    }

    /// <summary>A well-formed 32-bit i386 ELF executable header with one PT_LOAD (what a 32-bit kernel looks like).</summary>
    public static byte[] Elf32Executable()
    {
        const int headerSize = 52, phSize = 32;
        var file = new byte[headerSize + phSize + 16];
        var h = file.AsSpan();
        h[0] = 0x7F; h[1] = (byte)'E'; h[2] = (byte)'L'; h[3] = (byte)'F';
        h[4] = 1; h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2);   // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 3);   // EM_386
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], 0x10_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[40..], headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[42..], phSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[44..], 1);
        var ph = h.Slice(headerSize, phSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[0..], PtLoad);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], (uint)(headerSize + phSize));
        BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], 0x10_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], 0x10_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], 16);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], 16);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], PfR | PfX);
        return file;
    }

    private static int Align4(int v) => (v + 3) & ~3;
}
