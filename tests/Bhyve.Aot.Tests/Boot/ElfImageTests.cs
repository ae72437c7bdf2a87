using Bhyve.Aot.Boot;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>ElfImage.Parse: what it extracts from a good image, and that each malformed one is refused with a reason.</summary>
public class ElfImageTests
{
    [Fact]
    public void Parse_good_image_lists_load_segments_sorted_and_the_note()
    {
        var b = ElfBuilder.Bootable();
        // Declare the data segment first: Parse must still hand them back in address order.
        b.Segments.Reverse();
        byte[] file = b.Build();

        var image = ElfImage.Parse(file);

        Assert.Equal(ElfBuilder.KernelBase, image.Entry);
        Assert.Equal(2, image.Segments.Count);
        Assert.Equal(ElfBuilder.KernelBase, image.Segments[0].PhysicalAddress);
        Assert.Equal(0x300UL, image.Segments[0].FileSize);
        Assert.Equal(ElfBuilder.PfR | ElfBuilder.PfX, image.Segments[0].Flags);
        Assert.Equal(ElfBuilder.KernelBase + 0x1000, image.Segments[1].PhysicalAddress);
        Assert.Equal(0x40UL, image.Segments[1].FileSize);
        Assert.Equal(0x2000UL, image.Segments[1].MemorySize);
        Assert.Equal(ElfBuilder.KernelBase + 0x3000, image.Segments[1].End);

        var note = Assert.Single(image.Notes);
        Assert.Equal("Xen", note.Name);
        Assert.Equal(18u, note.Type);
        Assert.True(image.TryFindNote(file, "Xen", 18, out var desc));
        Assert.Equal(ElfBuilder.KernelBase, BitConverter.ToUInt32(desc));
    }

    [Fact]
    public void Segment_file_offsets_point_at_their_bytes()
    {
        var b = ElfBuilder.Bootable();
        byte[] file = b.Build();
        var image = ElfImage.Parse(file);
        foreach (var s in image.Segments)
        {
            var expected = b.Segments.Single(x => x.Type == ElfBuilder.PtLoad && x.PhysicalAddress == s.PhysicalAddress).Data;
            Assert.Equal(expected, file.AsSpan((int)s.FileOffset, (int)s.FileSize).ToArray());
        }
    }

    [Fact]
    public void Zero_sized_load_segments_are_ignored()
    {
        var b = ElfBuilder.Bootable();
        b.AddLoad(0x20_0000, [], 0, ElfBuilder.PfR);
        Assert.Equal(2, ElfImage.Parse(b.Build()).Segments.Count);
    }

    [Fact]
    public void TryFindNote_misses_other_names_and_types()
    {
        var b = ElfBuilder.Bootable();
        b.Segments.RemoveAll(s => s.Type == ElfBuilder.PtNote);
        b.AddNote([.. ElfBuilder.Note("GNU", 18, new byte[4]), .. ElfBuilder.Note("Xen", 17, new byte[4])]);
        byte[] file = b.Build();
        var image = ElfImage.Parse(file);
        Assert.Equal(2, image.Notes.Count);
        Assert.False(image.TryFindNote(file, "Xen", 18, out _));
    }

    public static TheoryData<string, string> Rejections => new()
    {
        { "bad-magic", "bad magic" },
        { "empty", "bad magic" },
        { "truncated-header", "truncated ELF header" },
        { "elfclass32", "ELFCLASS64" },
        { "big-endian", "little-endian" },
        { "wrong-machine", "not x86-64" },
        { "not-exec", "ET_EXEC" },
        { "no-phdrs", "no program headers" },
        { "phdrs-past-eof", "program headers lie past" },
        { "phoff-huge", "program headers lie past" },
        { "filesz-gt-memsz", "exceeds memory size" },
        { "segment-past-eof", "segment 0 lies past its end" },
        { "segment-size-past-eof", "segment 0 lies past its end" },
        { "address-overflow", "overflows" },
        { "overlap", "overlap" },
        { "no-load", "no loadable (PT_LOAD) segments" },
        { "truncated-note", "truncated ELF note" },
        { "note-past-eof", "note segment 2 lies past its end" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Malformed_images_are_refused_with_a_reason(string defect, string messagePart)
    {
        byte[] file = Malformed(defect);
        var e = Assert.Throws<BootImageException>(() => ElfImage.Parse(file));
        Assert.Contains(messagePart, e.Message);
    }

    /// <summary>The bootable image with exactly one defect.</summary>
    internal static byte[] Malformed(string defect)
    {
        var b = ElfBuilder.Bootable();
        switch (defect)
        {
            case "bad-magic": { var f = b.Build(); f[1] = (byte)'X'; return f; }
            case "empty": return [];
            case "truncated-header": return b.Build()[..40];
            case "elfclass32": b.Class = 1; break;
            case "big-endian": b.Encoding = 2; break;
            case "wrong-machine": b.Machine = 3; break;
            case "not-exec": b.Type = 3; break; // ET_DYN
            case "no-phdrs": b.ProgramHeaderCountOverride = 0; break;
            case "phdrs-past-eof": return b.Build()[..(64 + 56 + 10)];
            case "phoff-huge": b.ProgramHeaderOffsetOverride = ulong.MaxValue - 8; break;
            case "filesz-gt-memsz": b.Segments[0].MemorySize = 0x100; break;
            case "segment-past-eof": b.Segments[0].FileOffsetOverride = 1 << 20; break;
            case "segment-size-past-eof": b.Segments[0].FileSizeOverride = ulong.MaxValue; b.Segments[0].MemorySize = ulong.MaxValue; break;
            case "address-overflow": b.Segments[1].PhysicalAddress = ulong.MaxValue - 0x100; break;
            case "overlap": b.Segments[1].PhysicalAddress = ElfBuilder.KernelBase + 0x2FF; break;
            case "no-load": b.Segments.RemoveAll(s => s.Type == ElfBuilder.PtLoad); break;
            case "truncated-note":
            {
                // namesz claims more bytes than the note segment holds.
                var note = ElfBuilder.PvhNote(0x10_0000);
                BitConverter.GetBytes(64u).CopyTo(note, 0);
                b.Segments[2].Data = note;
                break;
            }
            case "note-past-eof": b.Segments[2].FileSizeOverride = 1 << 20; break;
            default: throw new ArgumentException(defect);
        }
        return b.Build();
    }
}
