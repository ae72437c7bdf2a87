namespace Bhyve.Aot.Kvm;

/// <summary>A CPUID register of one leaf.</summary>
public enum CpuidRegister { Eax, Ebx, Ecx, Edx }

/// <summary>
/// A CPU feature a user may hide from the guest with --cpuid-hide: its name as Linux's /proc/cpuinfo
/// spells it, and the CPUID bit that advertises it.
/// </summary>
public readonly record struct CpuidFeature(string Name, uint Leaf, uint Subleaf, CpuidRegister Register, uint Mask)
{
    /// <summary>
    /// The features that can be hidden. Chosen for what matters on nested or paravirtual KVM, where an emulated
    /// guest kernel may meet instructions the host's emulator lacks (xsave/xrstor, cmpxchg16b, AVX, ...).
    /// </summary>
    public static IReadOnlyList<CpuidFeature> All { get; } =
    [
        new("pclmulqdq", 1, 0, CpuidRegister.Ecx, 1u << 1),
        new("ssse3", 1, 0, CpuidRegister.Ecx, 1u << 9),
        new("fma", 1, 0, CpuidRegister.Ecx, 1u << 12),
        new("cx16", 1, 0, CpuidRegister.Ecx, 1u << 13),
        new("pcid", 1, 0, CpuidRegister.Ecx, 1u << 17),
        new("sse4_1", 1, 0, CpuidRegister.Ecx, 1u << 19),
        new("sse4_2", 1, 0, CpuidRegister.Ecx, 1u << 20),
        new("x2apic", 1, 0, CpuidRegister.Ecx, 1u << 21),
        new("movbe", 1, 0, CpuidRegister.Ecx, 1u << 22),
        new("popcnt", 1, 0, CpuidRegister.Ecx, 1u << 23),
        new("tsc_deadline_timer", 1, 0, CpuidRegister.Ecx, 1u << 24),
        new("aes", 1, 0, CpuidRegister.Ecx, 1u << 25),
        new("xsave", 1, 0, CpuidRegister.Ecx, 1u << 26),
        new("avx", 1, 0, CpuidRegister.Ecx, 1u << 28),
        new("f16c", 1, 0, CpuidRegister.Ecx, 1u << 29),
        new("rdrand", 1, 0, CpuidRegister.Ecx, 1u << 30),
        new("fsgsbase", 7, 0, CpuidRegister.Ebx, 1u << 0),
        new("bmi1", 7, 0, CpuidRegister.Ebx, 1u << 3),
        new("avx2", 7, 0, CpuidRegister.Ebx, 1u << 5),
        new("smep", 7, 0, CpuidRegister.Ebx, 1u << 7),
        new("bmi2", 7, 0, CpuidRegister.Ebx, 1u << 8),
        new("erms", 7, 0, CpuidRegister.Ebx, 1u << 9),
        new("invpcid", 7, 0, CpuidRegister.Ebx, 1u << 10),
        new("avx512f", 7, 0, CpuidRegister.Ebx, 1u << 16),
        new("rdseed", 7, 0, CpuidRegister.Ebx, 1u << 18),
        new("adx", 7, 0, CpuidRegister.Ebx, 1u << 19),
        new("smap", 7, 0, CpuidRegister.Ebx, 1u << 20),
        new("clflushopt", 7, 0, CpuidRegister.Ebx, 1u << 23),
        new("clwb", 7, 0, CpuidRegister.Ebx, 1u << 24),
        new("sha_ni", 7, 0, CpuidRegister.Ebx, 1u << 29),
        new("umip", 7, 0, CpuidRegister.Ecx, 1u << 2),
        new("pku", 7, 0, CpuidRegister.Ecx, 1u << 3),
        new("la57", 7, 0, CpuidRegister.Ecx, 1u << 16),
        new("rdpid", 7, 0, CpuidRegister.Ecx, 1u << 22),
        new("xsaveopt", 0xD, 1, CpuidRegister.Eax, 1u << 0),
        new("xsavec", 0xD, 1, CpuidRegister.Eax, 1u << 1),
        new("xsaves", 0xD, 1, CpuidRegister.Eax, 1u << 3),
        new("pdpe1gb", 0x8000_0001, 0, CpuidRegister.Edx, 1u << 26),
        new("rdtscp", 0x8000_0001, 0, CpuidRegister.Edx, 1u << 27),
        // KVM paravirtual features (leaf 0x40000001): the clock sources, both MSR generations.
        new("kvmclock", 0x4000_0001, 0, CpuidRegister.Eax, (1u << 0) | (1u << 3)),
    ];

    /// <summary>Parses a comma-separated list of feature names; unknown names are an error that lists the known ones.</summary>
    public static IReadOnlyList<CpuidFeature> ParseList(string text, out string? error)
    {
        var found = new List<CpuidFeature>();
        error = null;
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string name = raw.ToLowerInvariant().Replace('-', '_').Replace('.', '_');
            int i = -1;
            for (int k = 0; k < All.Count; k++) if (All[k].Name == name) { i = k; break; }
            if (i < 0)
            {
                error = $"unknown CPU feature '{raw}' (known: {string.Join(", ", All.Select(f => f.Name))})";
                return [];
            }
            if (!found.Contains(All[i])) found.Add(All[i]);
        }
        return found;
    }
}
