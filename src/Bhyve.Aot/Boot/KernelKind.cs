namespace Bhyve.Aot.Boot;

/// <summary>The kinds of kernel image bhyve-aot can boot, and the one place that tells them apart.</summary>
public enum KernelKind
{
    /// <summary>An ELF64 x86-64 executable with the XEN_ELFNOTE_PHYS32_ENTRY note: 32-bit PVH entry with hvm_start_info.</summary>
    PvhElf,
    /// <summary>An ELF64 vmlinux (it carries "Linux" notes) without a PVH note: Linux 64-bit entry with a zero page.</summary>
    LinuxElf,
    /// <summary>A Linux bzImage (boot sector with the "HdrS" setup header): 64-bit entry of its protected-mode part.</summary>
    BzImage,
}

public static class KernelKinds
{
    /// <summary>Looks at magic numbers and ELF notes only; the loader of the kind found does the full validation.</summary>
    public static KernelKind Detect(ReadOnlySpan<byte> file)
    {
        if (file.Length >= 4 && file[0] == 0x7F && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F')
        {
            var elf = ElfImage.Parse(file);
            if (elf.TryFindNote(file, "Xen", PvhLoader.XenElfNotePhys32Entry, out _)) return KernelKind.PvhElf;
            if (elf.Notes.Any(n => n.Name == "Linux")) return KernelKind.LinuxElf;
            throw new BootImageException(
                "ELF image has no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY) and no Linux note: bhyve-aot does not know how to enter it");
        }
        if (BzImage.HasSetupHeader(file)) return KernelKind.BzImage;
        throw new BootImageException("unknown kernel image kind: not an ELF file (bad magic) and not a Linux bzImage (no 'HdrS' setup header)");
    }
}
