using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>
/// Loads a Linux kernel for its 64-bit entry (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"):
/// the kernel in RAM, the command line, the initrd, and a zero page (struct boot_params) at
/// <see cref="GuestLayout.ZeroPageAddress"/>; the boot CPU then starts in long mode with RSI = zero page.
/// A bzImage's protected-mode part runs its own decompressor; a vmlinux ELF is loaded segment by segment.
/// </summary>
public static class LinuxLoader
{
    public static KernelBoot LoadBzImage(ReadOnlySpan<byte> file, GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap, string cmdline,
        ReadOnlySpan<byte> initrd, ulong rsdpAddress)
    {
        var bz = BzImage.Parse(file);
        byte[] cmd = CommandLine(cmdline, bz.MaxCmdline);
        ulong ramEnd = memory.GetRange(0).End;
        // pref_address comes from the file: every step is checked, so none can wrap below 1 MiB or past 2^64.
        ulong load = bz.PreferredAddress;
        if (bz.Relocatable)
            load = ImageAddress.AlignUp(Math.Max(load, GuestLayout.KernelMinimum), bz.Alignment, "bzImage pref_address aligned to kernel_alignment");
        else if (load < GuestLayout.KernelMinimum)
            throw new BootImageException($"bzImage must load at 0x{load:x}, inside the reserved area below 1 MiB");
        ulong kernelEnd = ImageAddress.End(load, bz.InitSizeValue, "bzImage load address + init_size");
        if (kernelEnd > ramEnd)
            throw new BootImageException($"kernel needs 0x{bz.InitSizeValue:x} bytes of RAM from 0x{load:x}; the guest has {ramEnd >> 20} MiB below the PCI hole");

        file[bz.KernelOffset..].CopyTo(memory.GetSpan(load, (ulong)bz.KernelLength));
        var extras = PlaceInitrd(memory, initrd, kernelEnd, ramEnd, bz.InitrdMax, rsdpAddress);
        WriteCommandLine(memory, cmd);
        ZeroPage.Write(memory, GuestLayout.ZeroPageAddress, file[BzImage.SetupHeaderOffset..bz.SetupHeaderEnd],
            new ZeroPageInputs(GuestLayout.CmdlineAddress, extras.InitrdAddress, extras.InitrdSize, rsdpAddress, memoryMap));
        return new KernelBoot(EntryMode.Linux64, load + BzImage.Entry64Offset, GuestLayout.ZeroPageAddress, load, kernelEnd, extras);
    }

    /// <summary>A vmlinux without a PVH note: its segments at their physical addresses, entered at e_entry (startup_64).</summary>
    public static KernelBoot LoadVmlinux(ReadOnlySpan<byte> file, GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap, string cmdline,
        ReadOnlySpan<byte> initrd, ulong rsdpAddress)
    {
        var image = ElfImage.Parse(file);
        byte[] cmd = CommandLine(cmdline, GuestLayout.CmdlineMax);
        ulong ramEnd = memory.GetRange(0).End;
        bool entryLoaded = false;
        foreach (var s in image.Segments)
        {
            if (s.PhysicalAddress < GuestLayout.KernelMinimum)
                throw new BootImageException($"segment at 0x{s.PhysicalAddress:x} overlaps the reserved area below 1 MiB (boot data, legacy hole)");
            if (!memory.Contains(s.PhysicalAddress, s.MemorySize))
                throw new BootImageException($"segment 0x{s.PhysicalAddress:x}-0x{s.End:x} does not fit in guest RAM ({memory.TotalBytes >> 20} MiB)");
            if ((s.Flags & ElfSegment.Executable) != 0 && image.Entry >= s.PhysicalAddress && image.Entry < s.PhysicalAddress + s.FileSize)
                entryLoaded = true;
        }
        if (!entryLoaded) throw new BootImageException($"entry point 0x{image.Entry:x} is not a physical address inside an executable loaded segment");
        PvhLoader.LoadSegments(image, file, memory);
        ulong kernelEnd = image.Segments[^1].End;
        var extras = PlaceInitrd(memory, initrd, kernelEnd, ramEnd, uint.MaxValue, rsdpAddress);
        WriteCommandLine(memory, cmd);
        ZeroPage.Write(memory, GuestLayout.ZeroPageAddress, [],
            new ZeroPageInputs(GuestLayout.CmdlineAddress, extras.InitrdAddress, extras.InitrdSize, rsdpAddress, memoryMap));
        return new KernelBoot(EntryMode.Linux64, image.Entry, GuestLayout.ZeroPageAddress, image.Segments[0].PhysicalAddress, kernelEnd, extras);
    }

    /// <summary>Copies the initrd (if any) to its place and says where it went.</summary>
    internal static BootExtras PlaceInitrd(GuestMemory memory, ReadOnlySpan<byte> initrd, ulong kernelEnd, ulong ramEnd, ulong maxLastByte, ulong rsdpAddress)
    {
        if (initrd.IsEmpty) return new BootExtras(0, 0, rsdpAddress);
        ulong at = InitrdPlacement.Choose((ulong)initrd.Length, kernelEnd, ramEnd, maxLastByte);
        initrd.CopyTo(memory.GetSpan(at, (ulong)initrd.Length));
        return new BootExtras(at, (ulong)initrd.Length, rsdpAddress);
    }

    private static byte[] CommandLine(string cmdline, uint max)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(cmdline);
        uint limit = Math.Min(max, (uint)GuestLayout.CmdlineMax);
        if ((uint)bytes.Length > limit) throw new BootImageException($"command line is {bytes.Length} bytes; this kernel accepts at most {limit}");
        return bytes;
    }

    private static void WriteCommandLine(GuestMemory memory, byte[] cmd)
    {
        var span = memory.GetSpan(GuestLayout.CmdlineAddress, (ulong)cmd.Length + 1);
        cmd.CopyTo(span);
        span[^1] = 0;
    }
}
