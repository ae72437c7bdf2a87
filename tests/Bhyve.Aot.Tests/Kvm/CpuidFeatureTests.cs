using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Xunit;

namespace Bhyve.Aot.Tests.Kvm;

/// <summary>--cpuid-hide: names parse to CPUID bits, and CpuidPolicy clears exactly those bits.</summary>
public class CpuidFeatureTests
{
    private static KvmCpuidEntry2 Entry(uint function, uint index, uint eax, uint ebx, uint ecx, uint edx) =>
        new() { Function = function, Index = index, Eax = eax, Ebx = ebx, Ecx = ecx, Edx = edx };

    [Fact]
    public void Names_parse_case_and_dash_insensitively_without_duplicates()
    {
        var list = CpuidFeature.ParseList("XSAVE, cx16,sse4-2,xsave", out var error);
        Assert.Null(error);
        Assert.Equal(["xsave", "cx16", "sse4_2"], list.Select(f => f.Name));
    }

    [Fact]
    public void Unknown_names_are_an_error_listing_the_known_ones()
    {
        var list = CpuidFeature.ParseList("xsave,warp-drive", out var error);
        Assert.Empty(list);
        Assert.Contains("unknown CPU feature 'warp-drive'", error);
        Assert.Contains("cx16", error);
    }

    [Fact]
    public void Every_feature_names_one_distinct_bit_set()
    {
        Assert.Equal(CpuidFeature.All.Count, CpuidFeature.All.Select(f => f.Name).Distinct().Count());
        Assert.All(CpuidFeature.All, f => Assert.NotEqual(0u, f.Mask));
    }

    [Fact]
    public void Hidden_features_are_cleared_and_nothing_else_changes()
    {
        KvmCpuidEntry2[] supported =
        [
            Entry(0x1, 0, 0x000A_06A4, 0x0000_0800, 0xFFFF_FFFF & ~(1u << 5 | 1u << 3 | 1u << 31), 0xFFFF_FFFF),
            Entry(0x7, 0, 0, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF),
            Entry(0xD, 1, 0xF, 0, 0, 0),
            Entry(0x4000_0001, 0, 0x0100_7AFB, 0, 0, 0),
        ];
        var baseline = CpuidPolicy.Apply(supported, 0, 1);
        var hide = CpuidFeature.ParseList("xsave,cx16,avx2,xsaves,kvmclock", out _);
        var hidden = CpuidPolicy.Apply(supported, 0, 1, hide);
        Assert.Equal(baseline[0].Ecx & ~(1u << 26 | 1u << 13), hidden[0].Ecx);
        Assert.Equal(baseline[0].Edx, hidden[0].Edx);
        Assert.Equal(baseline[1].Ebx & ~(1u << 5), hidden[1].Ebx);
        Assert.Equal(baseline[1].Ecx, hidden[1].Ecx);
        Assert.Equal(0x7u, hidden[2].Eax);
        Assert.Equal(0x0100_7AFBu & ~0x9u, hidden[3].Eax);
    }
}
