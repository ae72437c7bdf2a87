using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>
/// MSR values firmware sets before the OS runs and KVM leaves at zero, in one place (bhyve-aot is the firmware).
/// <list type="bullet">
/// <item>AMD HWCR (0xC0010015) bit 24, TscFreqSel: on family 0x10 model 2 and later the TSC counts at the P0
/// frequency, and firmware says so here; with it clear Linux prints `[Firmware Bug]: TSC doesn't count with P0
/// frequency!` (arch/x86/kernel/cpu/amd.c). KVM accepts the bit from user space since Linux 6.6; an older
/// KVM declines it and the guest keeps its warning.</item>
/// </list>
/// </summary>
internal static class BootMsrs
{
    public const uint AmdHwcr = 0xC001_0015;
    public const ulong HwcrTscFreqSel = 1UL << 24;

    private const uint VendorAmdEbx = 0x6874_7541, VendorHygonEbx = 0x6F67_7948;

    /// <summary>The (MSR, value) pairs to write into every vCPU of a guest whose CPUID is <paramref name="cpuid"/>.</summary>
    public static IReadOnlyList<(uint Msr, ulong Value)> For(ReadOnlySpan<KvmCpuidEntry2> cpuid)
    {
        foreach (var e in cpuid)
            if (e.Function == 0 && e.Ebx is VendorAmdEbx or VendorHygonEbx && Family(cpuid) >= 0x10)
                return [(AmdHwcr, HwcrTscFreqSel)];
        return [];
    }

    /// <summary>The display family of leaf 1 (base family, plus the extended family when the base is 0xF).</summary>
    private static uint Family(ReadOnlySpan<KvmCpuidEntry2> cpuid)
    {
        foreach (var e in cpuid)
            if (e.Function == 1)
            {
                uint family = (e.Eax >> 8) & 0xF;
                return family == 0xF ? family + ((e.Eax >> 20) & 0xFF) : family;
            }
        return 0;
    }
}
