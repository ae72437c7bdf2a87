using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>
/// Guest-physical layout of an hvt guest, as solo5-hvt lays it out (tenders/hvt/hvt_cpu_x86_64.h). The ABI fixes
/// what the guest sees (RDI = struct hvt_boot_info at 0x10000, RSP near the top of RAM, code at or above
/// HVT_GUEST_MIN_BASE); the rest is solo5-hvt's monitor map, kept so a guest finds what it would there:
/// <code>
/// 0x0000            zero page: not present in the guest's page tables
/// 0x1000            GDT
/// 0x2000            PML4
/// 0x3000            PDPT (four entries: up to 4 GiB)
/// 0x4000 .. 0x7FFF  four page directories in 2 MiB pages, except PD[0] entry 0 ...
/// 0x8000            ... which points at PT0: the first 2 MiB in 4 KiB pages
/// 0x10000           struct hvt_boot_info, the manifest, the command line (read-only to the guest up to 1 MiB)
/// 0x100000 ..       the unikernel (PT_LOAD segments), then its heap; the stack starts at the top of RAM
/// </code>
/// Everything below 0x10000 is unmapped in the guest, so a null-pointer access faults; 0x10000-0xFFFFF is mapped
/// read-only and CR0.WP is set, so even CPL0 code cannot write what the tender handed it.
/// RAM is one range from 0, whole 2 MiB pages, from 2 MiB to 4 GiB: solo5-hvt's limits.
/// </summary>
public static class HvtLayout
{
    public const ulong GdtAddress = 0x1000;
    public const ulong Pml4Address = 0x2000;
    public const ulong PdptAddress = 0x3000;
    public const ulong PdAddress = 0x4000;
    public const int PageDirectories = 4;
    public const ulong Pt0Address = 0x8000;
    public const ulong BootInfoAddress = 0x1_0000;
    /// <summary>The first guest page the page tables map (X86_PT0_MAP_START): below it, nothing is present.</summary>
    public const ulong Pt0MapStart = BootInfoAddress;
    public const ulong GuestMinBase = 0x10_0000;
    public const int CmdlineSize = 8192;
    public const ulong RamAlignment = 2 * GuestLayout.MiB;
    public const ulong MinRam = RamAlignment;
    public const ulong MaxRam = 4 * GuestLayout.GiB;
    public const ulong PageSize = 4096;
    /// <summary>The hypercall ports: HVT_HYPERCALL_PIO_BASE + n for n in 1..8.</summary>
    public const ushort HypercallPortBase = 0x500;

    /// <summary>HVT_FEATURE_RING_IO: the shared-memory network ring of hvt_ring.h. bhyve-aot does not offer it (see HvtLoader).</summary>
    public const uint FeatureRingIo = 1;

    /// <summary>
    /// sizeof(struct hvt_boot_info) for an ABI version: ABI 1 (Solo5 up to v0.7.x) has mem_size, kernel_end,
    /// cpu_cycle_freq, cmdline and mft (40 bytes); ABI 2 as Solo5 defines it today appends host_features,
    /// guest_features (u32 each) and net_ring (56 bytes). ABI-2 guests built before those fields existed never read
    /// them; the tender places the manifest after the whole struct either way, as solo5-hvt does.
    /// </summary>
    public static int BootInfoSize(uint abiVersion) => abiVersion >= 2 ? 56 : 40;

    /// <summary>Why this RAM size cannot hold an hvt guest, or null.</summary>
    public static string? CheckRamSize(ulong ramBytes)
    {
        if (ramBytes % RamAlignment != 0) return "a Solo5 hvt guest needs memory in whole 2 MiB pages";
        if (ramBytes < MinRam) return $"a Solo5 hvt guest needs at least {MinRam / GuestLayout.MiB} MiB";
        if (ramBytes > MaxRam) return $"a Solo5 hvt guest gets at most {MaxRam / GuestLayout.MiB} MiB (solo5-hvt's limit)";
        return null;
    }

    public static RamRange[] RamRanges(ulong ramBytes) => [new RamRange(0, ramBytes)];
}
