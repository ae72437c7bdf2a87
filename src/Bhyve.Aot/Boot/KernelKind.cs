using Bhyve.Aot.Boot.Solo5;

namespace Bhyve.Aot.Boot;

/// <summary>The kinds of kernel image bhyve-aot tells apart, by magic numbers and ELF notes.</summary>
public enum KernelKind
{
    /// <summary>An ELF64 x86-64 executable with the XEN_ELFNOTE_PHYS32_ENTRY note: 32-bit PVH entry with hvm_start_info.</summary>
    PvhElf,
    /// <summary>
    /// An ELF64 x86-64 executable without PVH or Solo5 notes (a vmlinux, or a unikernel built the same way): the Linux
    /// 64-bit boot protocol with a zero page, as Firecracker enters vmlinux.
    /// </summary>
    LinuxElf,
    /// <summary>An ELF64 with Solo5's ABI note for the hvt target and its manifest note: the Solo5 hvt ABI.</summary>
    Solo5Hvt,
    /// <summary>A Linux bzImage (boot sector with the "HdrS" setup header): 64-bit entry of its protected-mode part.</summary>
    BzImage,
}

/// <summary>The one place that tells kernel kinds apart; a kind we cannot run is refused naming what was found.</summary>
public static class KernelKinds
{
    /// <summary>Looks at magic numbers and ELF notes only; the loader of the kind found does the full validation.</summary>
    public static KernelKind Detect(ReadOnlySpan<byte> file)
    {
        if (IsElf(file)) return Detect(ElfImage.Parse(file), file);
        if (BzImage.HasSetupHeader(file)) return KernelKind.BzImage;
        throw new BootImageException("unknown kernel image kind: not an ELF file (bad magic) and not a Linux bzImage (no 'HdrS' setup header)");
    }

    public static bool IsElf(ReadOnlySpan<byte> file) =>
        file.Length >= 4 && file[0] == 0x7F && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F';

    public static KernelKind Detect(ElfImage elf, ReadOnlySpan<byte> file)
    {
        bool abi = elf.TryFindNote(file, Solo5AbiNote.NoteName, Solo5AbiNote.NoteType, out var abiDescriptor);
        bool manifest = elf.TryFindNote(file, Solo5Manifest.NoteName, Solo5Manifest.NoteType, out _);
        if (abi)
        {
            Solo5AbiNote.Parse(abiDescriptor).RequireHvt();
            if (!manifest) throw new BootImageException("a Solo5 hvt unikernel without a manifest note (\"Solo5\" MFT1): cannot tell which devices it needs");
            return KernelKind.Solo5Hvt;
        }
        if (manifest) throw new BootImageException("a Solo5 manifest note without the Solo5 ABI note (\"Solo5\" ABI1): cannot tell which tender it was built for");
        if (elf.TryFindNote(file, "Xen", PvhLoader.XenElfNotePhys32Entry, out _)) return KernelKind.PvhElf;
        return KernelKind.LinuxElf;
    }

    /// <summary>What the image is, for a refusal: the detected kind, or why it is none we run.</summary>
    public static string DescribeFound(ElfImage elf, ReadOnlySpan<byte> file)
    {
        try { return Describe(Detect(elf, file)); }
        catch (BootImageException e) { return e.Message; }
    }

    public static string Describe(KernelKind kind) => kind switch
    {
        KernelKind.PvhElf => "a PVH kernel",
        KernelKind.Solo5Hvt => "a Solo5 hvt unikernel",
        KernelKind.BzImage => "a Linux bzImage",
        _ => "a plain 64-bit ELF without PVH or Solo5 notes (Linux 64-bit boot protocol)",
    };
}
