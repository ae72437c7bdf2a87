using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>
/// The CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID, then this filter, in one place.
/// <list type="bullet">
/// <item>Leaf 1: hypervisor bit set; VMX and MONITOR/MWAIT hidden (no nested virtualization, and we do
/// not emulate MWAIT wake-ups); initial APIC ID = vCPU index; logical-processor count = vCPU count, HTT when &gt; 1.</item>
/// <item>Leaf 0x80000001: SVM hidden (no nested virtualization).</item>
/// <item>Leaves 0xB and 0x1F: x2APIC ID = vCPU index in every sub-leaf.</item>
/// <item>Leaf 0xA: zeroed, since we expose no performance counters.</item>
/// <item>Features the user names with --cpuid-hide (<see cref="CpuidFeature.All"/>) are cleared, last.</item>
/// </list>
/// Everything else passes through unchanged. MSRs: KVM emulates every MSR of the CPUID it is given in the
/// kernel (APIC base, TSC, kvmclock, EFER, PAT, MTRRs, ...); bhyve-aot neither filters nor handles MSRs in
/// user space, and an MSR KVM does not know raises #GP in the guest (unless the host sets kvm.ignore_msrs).
/// The boot CPU's long-mode EFER comes from KVM_SET_SREGS, not from an MSR write.
/// </summary>
internal static class CpuidPolicy
{
    public const uint Leaf1EcxVmx = 1u << 5;
    public const uint Leaf1EcxMonitor = 1u << 3;
    public const uint Leaf1EcxHypervisor = 1u << 31;
    public const uint Leaf1EdxHtt = 1u << 28;
    public const uint ExtLeaf1EcxSvm = 1u << 2;

    public static KvmCpuidEntry2[] Apply(ReadOnlySpan<KvmCpuidEntry2> supported, int vcpuIndex, int vcpuCount,
        IReadOnlyList<CpuidFeature>? hide = null)
    {
        if ((uint)vcpuIndex > 255 || vcpuCount is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(vcpuIndex), "vCPU index must fit an xAPIC ID");
        var result = supported.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            ref var e = ref result[i];
            switch (e.Function)
            {
                case 0x1:
                    e.Ecx = (e.Ecx | Leaf1EcxHypervisor) & ~(Leaf1EcxVmx | Leaf1EcxMonitor);
                    e.Ebx = (e.Ebx & 0x0000_FFFF) | ((uint)vcpuIndex << 24) | ((uint)Math.Min(vcpuCount, 255) << 16);
                    e.Edx = vcpuCount > 1 ? e.Edx | Leaf1EdxHtt : e.Edx & ~Leaf1EdxHtt;
                    break;
                case 0x8000_0001:
                    e.Ecx &= ~ExtLeaf1EcxSvm;
                    break;
                case 0xB:
                case 0x1F:
                    e.Edx = (uint)vcpuIndex;
                    break;
                case 0xA:
                    e.Eax = e.Ebx = e.Ecx = e.Edx = 0;
                    break;
            }
        }
        foreach (var f in hide ?? [])
        {
            for (int i = 0; i < result.Length; i++)
            {
                ref var e = ref result[i];
                if (e.Function != f.Leaf || e.Index != f.Subleaf) continue;
                switch (f.Register)
                {
                    case CpuidRegister.Eax: e.Eax &= ~f.Mask; break;
                    case CpuidRegister.Ebx: e.Ebx &= ~f.Mask; break;
                    case CpuidRegister.Ecx: e.Ecx &= ~f.Mask; break;
                    case CpuidRegister.Edx: e.Edx &= ~f.Mask; break;
                }
            }
        }
        return result;
    }
}
