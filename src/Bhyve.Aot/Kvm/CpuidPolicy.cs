using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>
/// The CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID, then this filter, in one place.
/// <list type="bullet">
/// <item>Leaf 1: hypervisor bit set; VMX and MONITOR/MWAIT hidden (no nested virtualization, and we do
/// not emulate MWAIT wake-ups); initial APIC ID = vCPU index; EBX[23:16] = addressable IDs per package
/// (2^<see cref="CpuTopology.PackageShift"/>), HTT when a package holds more than one logical processor.</item>
/// <item>Leaf 0x80000001: SVM hidden (no nested virtualization).</item>
/// <item>Topology, all from one <see cref="CpuTopology"/> so that no two leaves disagree (Linux warns, and builds
/// a wrong topology, when they do): leaf 4 (cores per package, threads sharing each cache), leaves 0xB and
/// 0x1F (SMT and core levels, rewritten whole: KVM may list them empty), and on AMD leaf 0x80000008 ECX
/// (threads per package, APIC ID core bits), 0x8000001D (threads sharing each cache) and 0x8000001E
/// (extended APIC ID, core and node ID).</item>
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

    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry is one sub-leaf of its leaf.</summary>
    public const uint FlagSignificantIndex = 1;

    /// <summary>Topology level types of leaves 0xB/0x1F (ECX[15:8]).</summary>
    private const uint LevelSmt = 1, LevelCore = 2;

    private const uint VendorAmdEbx = 0x6874_7541;   // "Auth"enticAMD
    private const uint VendorHygonEbx = 0x6F67_7948; // "Hygo"nGenuine

    /// <summary>`--cpus N`: one package of N cores.</summary>
    public static KvmCpuidEntry2[] Apply(ReadOnlySpan<KvmCpuidEntry2> supported, int vcpuIndex, int vcpuCount,
        IReadOnlyList<CpuidFeature>? hide = null)
    {
        if (vcpuCount is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(vcpuCount), "vCPU count must be 1..256");
        return Apply(supported, vcpuIndex, CpuTopology.OnePackage(vcpuCount), hide);
    }

    public static KvmCpuidEntry2[] Apply(ReadOnlySpan<KvmCpuidEntry2> supported, int vcpuIndex, CpuTopology topology,
        IReadOnlyList<CpuidFeature>? hide = null)
    {
        if (topology.Problem() is { } problem) throw new ArgumentOutOfRangeException(nameof(topology), problem);
        if (topology.Cpus is < 1 or > 256 || (uint)vcpuIndex >= (uint)topology.Cpus)
            throw new ArgumentOutOfRangeException(nameof(vcpuIndex), "vCPU index must fit an xAPIC ID and the topology");
        uint id = (uint)vcpuIndex;
        uint maxBasic = 0;
        bool amd = false;
        foreach (var e in supported)
            if (e.Function == 0) { maxBasic = e.Eax; amd = e.Ebx is VendorAmdEbx or VendorHygonEbx; }

        var result = new List<KvmCpuidEntry2>(supported.Length + 6);
        bool hadLeaf1F = false;
        foreach (var entry in supported)
        {
            var e = entry;
            switch (e.Function)
            {
                case 0x1:
                    e.Ecx = (e.Ecx | Leaf1EcxHypervisor) & ~(Leaf1EcxVmx | Leaf1EcxMonitor);
                    e.Ebx = (e.Ebx & 0x0000_FFFF) | (id << 24) | ((uint)Math.Min(1 << topology.PackageShift, 255) << 16);
                    e.Edx = topology.PerPackage > 1 ? e.Edx | Leaf1EdxHtt : e.Edx & ~Leaf1EdxHtt;
                    break;
                case 0x4:
                    e.Eax = CacheLeaf(e.Eax, topology, withCores: true);
                    break;
                case 0xA:
                    e.Eax = e.Ebx = e.Ecx = e.Edx = 0;
                    break;
                case 0xB:
                    continue;   // rewritten whole below
                case 0x1F:
                    hadLeaf1F = true;
                    continue;
                case 0x8000_0001:
                    e.Ecx &= ~ExtLeaf1EcxSvm;
                    break;
                case 0x8000_0008 when amd:
                    // ECX[7:0] = threads per package - 1, ECX[15:12] = APIC ID bits below the package.
                    e.Ecx = (e.Ecx & ~0xF0FFu) | ((uint)topology.PackageShift << 12) | (uint)(topology.PerPackage - 1);
                    break;
                case 0x8000_001D when amd:
                    e.Eax = CacheLeaf(e.Eax, topology, withCores: false);
                    break;
                case 0x8000_001E when amd:
                    e.Eax = id;
                    e.Ebx = (e.Ebx & 0xFFFF_0000) | ((uint)(topology.Threads - 1) << 8)
                        | ((id >> topology.ThreadBits) & ((1u << topology.CoreBits) - 1) & 0xFF);
                    e.Ecx = (e.Ecx & 0xFFFF_F800) | ((id >> topology.PackageShift) & 0xFF);   // one node per package
                    break;
            }
            result.Add(e);
        }
        if (maxBasic >= 0xB) AddTopologyLeaf(result, 0xB, id, topology);
        if (hadLeaf1F && maxBasic >= 0x1F) AddTopologyLeaf(result, 0x1F, id, topology);

        foreach (var f in hide ?? [])
        {
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(result);
            for (int i = 0; i < span.Length; i++)
            {
                ref var e = ref span[i];
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
        return result.ToArray();
    }

    /// <summary>
    /// Leaf 4 / 0x8000001D EAX: keeps the cache type, level and flags (bits 13:0); sets who shares the cache
    /// (bits 25:14: the threads of a core for L1 and L2, the whole package for L3) and, for leaf 4, the
    /// addressable core IDs per package (bits 31:26). An entry without a cache (type 0) stays as it is.
    /// </summary>
    private static uint CacheLeaf(uint eax, CpuTopology t, bool withCores)
    {
        if ((eax & 0x1F) == 0) return eax;
        uint level = (eax >> 5) & 0x7;
        uint sharing = level <= 2 ? 1u << t.ThreadBits : 1u << t.PackageShift;
        uint value = (eax & 0x3FFF) | ((Math.Min(sharing, 4096) - 1) << 14);
        if (withCores) value |= (Math.Min(1u << t.CoreBits, 64) - 1) << 26;
        else value |= eax & 0xFC00_0000;
        return value;
    }

    /// <summary>Leaf 0xB or 0x1F: the SMT level, the core level (whose shift reaches the package) and the terminating invalid level.</summary>
    private static void AddTopologyLeaf(List<KvmCpuidEntry2> result, uint leaf, uint id, CpuTopology t)
    {
        result.Add(new KvmCpuidEntry2 { Function = leaf, Index = 0, Flags = FlagSignificantIndex,
            Eax = (uint)t.ThreadBits, Ebx = (uint)t.Threads, Ecx = LevelSmt << 8, Edx = id });
        result.Add(new KvmCpuidEntry2 { Function = leaf, Index = 1, Flags = FlagSignificantIndex,
            Eax = (uint)t.PackageShift, Ebx = (uint)t.PerPackage, Ecx = (LevelCore << 8) | 1, Edx = id });
        result.Add(new KvmCpuidEntry2 { Function = leaf, Index = 2, Flags = FlagSignificantIndex,
            Eax = 0, Ebx = 0, Ecx = 2, Edx = id });
    }
}
