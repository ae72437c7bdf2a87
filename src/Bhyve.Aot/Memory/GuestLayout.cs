namespace Bhyve.Aot.Memory;

/// <summary>E820 / hvm_memmap entry types.</summary>
public enum MemoryType : uint
{
    Ram = 1,
    Reserved = 2,
}

/// <summary>One entry of the memory map handed to the guest.</summary>
public readonly record struct MemoryMapEntry(ulong Address, ulong Size, MemoryType Type)
{
    public ulong End => Address + Size;
}

/// <summary>One contiguous range of guest RAM.</summary>
public readonly record struct RamRange(ulong Address, ulong Size)
{
    public ulong End => Address + Size;
}

/// <summary>
/// The guest-physical address map, fixed so that one guest ELF runs unchanged on bhyve-aot and on QEMU microvm:
/// <code>
/// 0x0000_0000 .. 0x0009_FBFF   RAM; the VMM's boot data lives here (GDT 0x500, start info 0x5000, PVH module
///                              list 0x5F00, cmdline 0x6000, Linux zero page 0x7000, boot page tables 0x9000-0xEFFF)
/// 0x0009_FC00 .. 0x000F_FFFF   RAM but reported reserved (EBDA, legacy VGA/BIOS hole), as PC firmware and QEMU do;
///                              the ACPI tables live at 0xE0000 (RSDP first, where a legacy scan finds it)
/// 0x0010_0000 .. min(RAM, 3G)  RAM; kernels load here (PT_LOAD segments must lie at or above 1 MiB)
/// 0xC000_0000 .. 0xDFFF_FFFF   32-bit PCI MMIO window (BARs)
/// 0xE000_0000 .. 0xEFFF_FFFF   PCI ECAM (256 buses), as on QEMU microvm
/// 0xFEC0_0000, 0xFEE0_0000     IOAPIC, LAPIC (in-kernel)
/// 0x1_0000_0000 ..             RAM above 3 GiB, when the guest has more
/// </code>
/// </summary>
public static class GuestLayout
{
    public const ulong KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    public const ulong LowRamEnd = 0x9_FC00;
    public const ulong KernelMinimum = 1 * MiB;
    public const ulong LowRamLimit = 0xC000_0000;
    public const ulong PciMmioWindowStart = 0xC000_0000;
    public const ulong PciMmioWindowSize = 512 * MiB;
    public const ulong EcamStart = 0xE000_0000;
    public const ulong EcamSize = 256 * MiB;
    public const ulong HighRamStart = 4 * GiB;

    public const ulong MinimumRam = 4 * MiB;
    public const ulong MaximumRam = 1024 * GiB;

    public const ulong BootGdtAddress = 0x500;
    public const ulong StartInfoAddress = 0x5000;
    public const ulong CmdlineAddress = 0x6000;
    public const int CmdlineMax = 4095;
    /// <summary>hvm_modlist_entry array (one entry: the initrd) for PVH kernels.</summary>
    public const ulong PvhModuleListAddress = 0x5F00;
    /// <summary>Linux struct boot_params ("zero page"), 4 KiB.</summary>
    public const ulong ZeroPageAddress = 0x7000;
    /// <summary>Identity page tables for the Linux 64-bit entry: PML4, PDPT, then four 2 MiB-page directories (4 GiB).</summary>
    public const ulong BootPageTablesAddress = 0x9000;
    public const ulong BootPageTablesEnd = 0xF000;
    /// <summary>ACPI tables: RSDP at the start, inside the reserved BIOS area a legacy RSDP scan looks at.</summary>
    public const ulong AcpiAddress = 0xE_0000;
    public const ulong AcpiEnd = 0x10_0000;

    /// <summary>Splits the requested RAM around the MMIO hole.</summary>
    public static RamRange[] RamRanges(ulong ramBytes)
    {
        Validate(ramBytes);
        if (ramBytes <= LowRamLimit) return [new RamRange(0, ramBytes)];
        return [new RamRange(0, LowRamLimit), new RamRange(HighRamStart, ramBytes - LowRamLimit)];
    }

    /// <summary>The memory map the guest is told about (e820 / hvm_memmap).</summary>
    public static MemoryMapEntry[] MemoryMap(ulong ramBytes)
    {
        var ranges = RamRanges(ramBytes);
        var map = new List<MemoryMapEntry>
        {
            new(0, LowRamEnd, MemoryType.Ram),
            new(LowRamEnd, KernelMinimum - LowRamEnd, MemoryType.Reserved),
            new(KernelMinimum, ranges[0].End - KernelMinimum, MemoryType.Ram),
            new(EcamStart, EcamSize, MemoryType.Reserved),
        };
        if (ranges.Length > 1) map.Add(new(ranges[1].Address, ranges[1].Size, MemoryType.Ram));
        return map.ToArray();
    }

    /// <summary>Why a RAM size cannot be used, or null when it can.</summary>
    public static string? CheckRamSize(ulong ramBytes)
    {
        if (ramBytes < MinimumRam) return $"memory must be at least {MinimumRam / MiB} MiB";
        if (ramBytes > MaximumRam) return $"memory must be at most {MaximumRam / GiB} GiB";
        if (ramBytes % (4 * KiB) != 0) return "memory must be a multiple of 4 KiB";
        return null;
    }

    public static void Validate(ulong ramBytes)
    {
        if (CheckRamSize(ramBytes) is { } problem) throw new ArgumentOutOfRangeException(nameof(ramBytes), problem);
    }
}
