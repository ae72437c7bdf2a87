using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>
/// Guest-physical layout of an hvt guest. The ABI fixes only what the guest sees (RDI = struct hvt_boot_info,
/// RSP near the top of RAM, code at or above HVT_GUEST_MIN_BASE); below that the tender chooses. Ours:
/// <code>
/// 0x1000            GDT
/// 0x2000 .. 0x4FFF  PML4, PDPT, PD (identity map of all RAM in 2 MiB pages, as solo5-hvt)
/// 0x10000           struct hvt_boot_info, then the manifest, then the command line (HVT_CMDLINE_SIZE)
/// 0x100000 ..       the unikernel (PT_LOAD segments), then its heap; the stack starts at the top of RAM
/// </code>
/// RAM is one range from 0, a multiple of 2 MiB and at most 1 GiB (one page directory), the limits solo5-hvt has.
/// </summary>
public static class HvtLayout
{
    public const ulong GdtAddress = 0x1000;
    public const ulong Pml4Address = 0x2000;
    public const ulong BootInfoAddress = 0x1_0000;
    public const int BootInfoSize = 40;
    public const ulong GuestMinBase = 0x10_0000;
    public const int CmdlineSize = 8192;
    public const ulong RamAlignment = 2 * GuestLayout.MiB;
    public const ulong MaxRam = GuestLayout.GiB;
    public const ulong PageSize = 4096;
    /// <summary>The hypercall ports: HVT_HYPERCALL_PIO_BASE + n for n in 1..8.</summary>
    public const ushort HypercallPortBase = 0x500;

    /// <summary>Why this RAM size cannot hold an hvt guest, or null.</summary>
    public static string? CheckRamSize(ulong ramBytes)
    {
        if (ramBytes % RamAlignment != 0) return "a Solo5 hvt guest needs memory in whole 2 MiB pages";
        if (ramBytes > MaxRam) return $"a Solo5 hvt guest gets at most {MaxRam / GuestLayout.MiB} MiB (solo5-hvt's limit)";
        return null;
    }

    public static RamRange[] RamRanges(ulong ramBytes) => [new RamRange(0, ramBytes)];
}
