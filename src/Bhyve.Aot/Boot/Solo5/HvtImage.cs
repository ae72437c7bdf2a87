using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>
/// A Solo5 hvt executable checked against the RAM it will get, before anything is loaded: the ABI note, the
/// manifest, segment placement (at or above 1 MiB, inside RAM, never writable and executable at once), the entry
/// point, where the kernel ends, and which pages the guest may not write (its non-writable segments).
/// </summary>
public sealed class HvtImage
{
    private HvtImage(ElfImage elf, uint abiVersion, Solo5Manifest manifest, ulong kernelEnd, RamRange[] readOnly)
    {
        Elf = elf;
        AbiVersion = abiVersion;
        Manifest = manifest;
        KernelEnd = kernelEnd;
        ReadOnlyRanges = readOnly;
    }

    public ElfImage Elf { get; }
    /// <summary>The hvt ABI version the ABI1 note requests (1 or 2): it decides the size of struct hvt_boot_info.</summary>
    public uint AbiVersion { get; }
    public Solo5Manifest Manifest { get; }
    public ulong Entry => Elf.Entry;
    /// <summary>The first byte past the loaded image, page-aligned (struct hvt_boot_info.kernel_end).</summary>
    public ulong KernelEnd { get; }
    /// <summary>Whole pages of non-writable segments, to map read-only (text, rodata, notes).</summary>
    public IReadOnlyList<RamRange> ReadOnlyRanges { get; }

    public static HvtImage Validate(ElfImage elf, ReadOnlySpan<byte> file, ulong ramBytes)
    {
        if (!elf.TryFindNote(file, Solo5AbiNote.NoteName, Solo5AbiNote.NoteType, out var abi))
            throw new BootImageException($"no Solo5 ABI note (\"Solo5\" ABI1): this is not a Solo5 hvt unikernel; it is {KernelKinds.DescribeFound(elf, file)}");
        var abiNote = Solo5AbiNote.Parse(abi);
        abiNote.RequireHvt();
        if (!elf.TryFindNote(file, Solo5Manifest.NoteName, Solo5Manifest.NoteType, out var mft))
            throw new BootImageException("a Solo5 hvt unikernel without a manifest note (\"Solo5\" MFT1)");
        var manifest = Solo5Manifest.Parse(mft);

        ulong end = 0;
        bool entryLoaded = false;
        foreach (var s in elf.Segments)
        {
            if (s.PhysicalAddress < HvtLayout.GuestMinBase)
                throw new BootImageException($"segment at 0x{s.PhysicalAddress:x} lies below the hvt minimum load address 0x{HvtLayout.GuestMinBase:x}");
            if (s.End > ramBytes || AlignUp(s.End) > ramBytes)
                throw new BootImageException($"segment 0x{s.PhysicalAddress:x}-0x{s.End:x} does not fit in guest RAM ({ramBytes >> 20} MiB)");
            if ((s.Flags & ElfSegment.Executable) != 0 && (s.Flags & ElfSegment.Writable) != 0)
                throw new BootImageException($"segment at 0x{s.PhysicalAddress:x} asks to be both writable and executable (solo5-hvt refuses that too)");
            if ((s.Flags & ElfSegment.Executable) != 0 && elf.Entry >= s.PhysicalAddress && elf.Entry < s.PhysicalAddress + s.FileSize)
                entryLoaded = true;
            end = Math.Max(end, AlignUp(s.End));
        }
        if (!entryLoaded) throw new BootImageException($"entry point 0x{elf.Entry:x} is not inside an executable loaded segment");
        return new HvtImage(elf, abiNote.Version, manifest, end, ReadOnlyPages(elf.Segments));
    }

    /// <summary>Pages wholly owned by non-writable segments: a page a writable segment also touches stays writable.</summary>
    internal static RamRange[] ReadOnlyPages(IReadOnlyList<ElfSegment> segments)
    {
        var ranges = new List<RamRange>();
        foreach (var s in segments)
        {
            if ((s.Flags & ElfSegment.Writable) != 0) continue;
            ulong start = AlignDown(s.PhysicalAddress), stop = AlignUp(s.End);
            foreach (var w in segments)
            {
                if ((w.Flags & ElfSegment.Writable) == 0) continue;
                ulong wStart = AlignDown(w.PhysicalAddress), wStop = AlignUp(w.End);
                if (wStart < stop && start < wStop)
                {
                    if (wStart <= start) start = Math.Min(stop, wStop);
                    else stop = wStart;
                }
            }
            if (start >= stop) continue;
            if (ranges.Count > 0 && ranges[^1].End >= start)
                ranges[^1] = new RamRange(ranges[^1].Address, Math.Max(ranges[^1].End, stop) - ranges[^1].Address);
            else ranges.Add(new RamRange(start, stop - start));
        }
        return ranges.ToArray();
    }

    private static ulong AlignDown(ulong v) => v & ~(HvtLayout.PageSize - 1);
    private static ulong AlignUp(ulong v) => v > ulong.MaxValue - (HvtLayout.PageSize - 1) ? ulong.MaxValue & ~(HvtLayout.PageSize - 1) : (v + HvtLayout.PageSize - 1) & ~(HvtLayout.PageSize - 1);
}
