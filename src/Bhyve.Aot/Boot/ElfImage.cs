using System.Buffers.Binary;

namespace Bhyve.Aot.Boot;

/// <summary>A PT_LOAD segment: file bytes to copy to a guest-physical address, zero-filled to MemorySize.</summary>
public readonly record struct ElfSegment(ulong FileOffset, ulong FileSize, ulong PhysicalAddress, ulong MemorySize, uint Flags)
{
    public const uint Executable = 1, Writable = 2;
    public ulong End => PhysicalAddress + MemorySize;
}

/// <summary>One ELF note (name, type, descriptor), as found in a PT_NOTE segment.</summary>
public readonly record struct ElfNote(string Name, uint Type, ulong DescriptorOffset, uint DescriptorSize);

/// <summary>
/// A validated 64-bit x86 ELF executable: header, loadable segments and notes. Parsing reads only the
/// bytes it was given, checks every offset and size against them, and throws BootImageException otherwise.
/// </summary>
public sealed class ElfImage
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const ushort MachineX86_64 = 62;
    private const ushort TypeExecutable = 2;
    private const uint PtLoad = 1, PtNote = 4;
    private const int MaxProgramHeaders = 256;
    private const int MaxNotes = 256;

    private ElfImage(ulong entry, ElfSegment[] segments, ElfNote[] notes)
    {
        Entry = entry;
        Segments = segments;
        Notes = notes;
    }

    public ulong Entry { get; }
    public IReadOnlyList<ElfSegment> Segments { get; }
    public IReadOnlyList<ElfNote> Notes { get; }

    public static ElfImage Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < 4 || file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
            throw new BootImageException("not an ELF file (bad magic)");
        if (file.Length < HeaderSize) throw new BootImageException($"truncated ELF header ({file.Length} bytes)");
        if (file[4] != 2) throw new BootImageException($"ELF class {file[4]} is not supported: need a 64-bit (ELFCLASS64) image");
        if (file[5] != 1) throw new BootImageException("ELF image is not little-endian");
        if (file[6] != 1) throw new BootImageException($"unknown ELF version {file[6]}");
        ushort type = U16(file, 16), machine = U16(file, 18);
        if (machine != MachineX86_64) throw new BootImageException($"ELF machine {machine} is not x86-64 (62)");
        if (type != TypeExecutable) throw new BootImageException($"ELF type {type} is not an executable (ET_EXEC)");

        ulong entry = U64(file, 24), phoff = U64(file, 32);
        ushort phentsize = U16(file, 54), phnum = U16(file, 56);
        if (phnum == 0) throw new BootImageException("ELF image has no program headers");
        if (phnum > MaxProgramHeaders) throw new BootImageException($"ELF image has {phnum} program headers (at most {MaxProgramHeaders})");
        if (phentsize != ProgramHeaderSize) throw new BootImageException($"ELF program header size {phentsize} is not {ProgramHeaderSize}");
        if (!Fits(phoff, (ulong)phnum * ProgramHeaderSize, file.Length))
            throw new BootImageException("truncated ELF file: program headers lie past its end");

        var segments = new List<ElfSegment>();
        var notes = new List<ElfNote>();
        for (int i = 0; i < phnum; i++)
        {
            var ph = file.Slice((int)phoff + i * ProgramHeaderSize, ProgramHeaderSize);
            uint ptype = U32(ph, 0), flags = U32(ph, 4);
            ulong offset = U64(ph, 8), paddr = U64(ph, 24), filesz = U64(ph, 32), memsz = U64(ph, 40);
            if (ptype == PtLoad)
            {
                if (filesz > memsz) throw new BootImageException($"segment {i}: file size 0x{filesz:x} exceeds memory size 0x{memsz:x}");
                if (!Fits(offset, filesz, file.Length)) throw new BootImageException($"truncated ELF file: segment {i} lies past its end");
                if (memsz > ulong.MaxValue - paddr) throw new BootImageException($"segment {i}: address 0x{paddr:x} + size 0x{memsz:x} overflows");
                if (memsz == 0) continue;
                segments.Add(new ElfSegment(offset, filesz, paddr, memsz, flags));
            }
            else if (ptype == PtNote)
            {
                if (!Fits(offset, filesz, file.Length)) throw new BootImageException($"truncated ELF file: note segment {i} lies past its end");
                ParseNotes(file, offset, filesz, notes);
            }
        }
        if (segments.Count == 0) throw new BootImageException("ELF image has no loadable (PT_LOAD) segments");
        segments.Sort((a, b) => a.PhysicalAddress.CompareTo(b.PhysicalAddress));
        for (int i = 1; i < segments.Count; i++)
            if (segments[i].PhysicalAddress < segments[i - 1].End)
                throw new BootImageException($"segments at 0x{segments[i - 1].PhysicalAddress:x} and 0x{segments[i].PhysicalAddress:x} overlap");
        return new ElfImage(entry, segments.ToArray(), notes.ToArray());
    }

    /// <summary>The descriptor bytes of the first note with this name and type, or an empty span.</summary>
    public bool TryFindNote(ReadOnlySpan<byte> file, string name, uint type, out ReadOnlySpan<byte> descriptor)
    {
        foreach (var note in Notes)
        {
            if (note.Type == type && note.Name == name)
            {
                descriptor = file.Slice((int)note.DescriptorOffset, (int)note.DescriptorSize);
                return true;
            }
        }
        descriptor = default;
        return false;
    }

    private static void ParseNotes(ReadOnlySpan<byte> file, ulong offset, ulong size, List<ElfNote> notes)
    {
        ulong pos = 0;
        while (size - pos >= 12)
        {
            if (notes.Count >= MaxNotes) throw new BootImageException($"ELF image has more than {MaxNotes} notes");
            var header = file.Slice((int)(offset + pos), 12);
            ulong namesz = U32(header, 0), descsz = U32(header, 4);
            uint type = U32(header, 8);
            ulong nameStart = pos + 12;
            ulong descStart = nameStart + Align4(namesz);
            ulong next = descStart + Align4(descsz);
            if (next > size) throw new BootImageException("truncated ELF note");
            var nameBytes = file.Slice((int)(offset + nameStart), (int)namesz);
            int nul = nameBytes.IndexOf((byte)0);
            string name = System.Text.Encoding.ASCII.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
            notes.Add(new ElfNote(name, type, offset + descStart, (uint)descsz));
            pos = next;
        }
    }

    private static ulong Align4(ulong v) => (v + 3) & ~3UL;
    private static bool Fits(ulong offset, ulong length, int fileLength) =>
        offset <= (ulong)fileLength && length <= (ulong)fileLength - offset;
    private static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    private static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
}
