using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Xunit;

namespace Bhyve.Aot.Tests.Kvm;

/// <summary>CpuidPolicy.Apply on a synthetic KVM_GET_SUPPORTED_CPUID table: only the documented bits change.</summary>
public class CpuidPolicyTests
{
    private const uint Vmx = 1u << 5, Monitor = 1u << 3, Hypervisor = 1u << 31, Sse3 = 1u << 0, Sse41 = 1u << 19;
    private const uint Htt = 1u << 28, Fpu = 1u << 0, Sse2 = 1u << 26;
    private const uint Svm = 1u << 2, LahfLm = 1u << 0;

    private static KvmCpuidEntry2 Entry(uint function, uint index, uint eax, uint ebx, uint ecx, uint edx) =>
        new() { Function = function, Index = index, Flags = index == 0 ? 0u : 1u, Eax = eax, Ebx = ebx, Ecx = ecx, Edx = edx };

    /// <summary>What a host might report: VMX and MONITOR available, a host APIC ID and count in leaf 1, SVM, perf counters.</summary>
    private static KvmCpuidEntry2[] Supported() =>
    [
        Entry(0x0, 0, 0x1F, 0x756E_6547, 0x6C65_746E, 0x4965_6E69),
        Entry(0x1, 0, 0x000A_06A4, 0x2A10_0800, Vmx | Monitor | Sse3 | Sse41, Fpu | Sse2 | Htt),
        Entry(0x7, 0, 0, 0x029C_6FBF, 0x40, 0xAC00_4410),
        Entry(0xA, 0, 0x0703_0805, 0x1F, 0x3, 0x8603),
        Entry(0xB, 0, 1, 2, 0x100, 0x2A),
        Entry(0xB, 1, 4, 16, 0x201, 0x2A),
        Entry(0x1F, 0, 1, 2, 0x100, 0x2A),
        Entry(0x1F, 1, 4, 16, 0x201, 0x2A),
        Entry(0x4000_0001, 0, 0x0100_7AFB, 0, 0, 0),
        Entry(0x8000_0001, 0, 0, 0, Svm | LahfLm, 0x2C10_0800),
    ];

    private static KvmCpuidEntry2 Find(KvmCpuidEntry2[] entries, uint function, uint index = 0) =>
        entries.Single(e => e.Function == function && e.Index == index);

    [Fact]
    public void Leaf_1_ecx_advertises_a_hypervisor_and_hides_VMX_and_MONITOR()
    {
        var leaf1 = Find(CpuidPolicy.Apply(Supported(), 0, 1), 1);
        Assert.Equal(Hypervisor | Sse3 | Sse41, leaf1.Ecx);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(63, 64)]
    [InlineData(255, 256)]
    public void Leaf_1_ebx_carries_the_APIC_id_and_logical_count_and_keeps_the_low_half(int index, int count)
    {
        var leaf1 = Find(CpuidPolicy.Apply(Supported(), index, count), 1);
        Assert.Equal((uint)index, leaf1.Ebx >> 24);
        // The count field is 8 bits wide: 256 vCPUs report 255.
        Assert.Equal((uint)Math.Min(count, 255), (leaf1.Ebx >> 16) & 0xFF);
        Assert.Equal(0x0800u, leaf1.Ebx & 0xFFFF);   // CLFLUSH size and brand index from the host
    }

    [Fact]
    public void HTT_follows_the_vCPU_count()
    {
        Assert.Equal(0u, Find(CpuidPolicy.Apply(Supported(), 0, 1), 1).Edx & Htt);
        Assert.Equal(Htt, Find(CpuidPolicy.Apply(Supported(), 0, 2), 1).Edx & Htt);
        // Set even when the host did not report it.
        var noHtt = Supported();
        noHtt[1].Edx &= ~Htt;
        Assert.Equal(Htt, Find(CpuidPolicy.Apply(noHtt, 1, 2), 1).Edx & Htt);
        // The other EDX bits pass through.
        Assert.Equal(Fpu | Sse2, Find(CpuidPolicy.Apply(Supported(), 0, 1), 1).Edx);
    }

    [Fact]
    public void SVM_is_hidden_in_leaf_0x80000001()
    {
        var ext = Find(CpuidPolicy.Apply(Supported(), 0, 1), 0x8000_0001);
        Assert.Equal(LahfLm, ext.Ecx);
        Assert.Equal(0x2C10_0800u, ext.Edx);
    }

    [Fact]
    public void Performance_monitoring_leaf_is_zeroed()
    {
        var pmu = Find(CpuidPolicy.Apply(Supported(), 0, 1), 0xA);
        Assert.Equal((0u, 0u, 0u, 0u), (pmu.Eax, pmu.Ebx, pmu.Ecx, pmu.Edx));
    }

    [Fact]
    public void Other_leaves_pass_through_and_identity_fields_never_change()
    {
        var input = Supported();
        var result = CpuidPolicy.Apply(input, 2, 4);
        foreach (var e in input.Where(e => e.Function is not (0xB or 0x1F)))
        {
            var r = Find(result, e.Function, e.Index);
            Assert.Equal(e.Flags, r.Flags);
            if (e.Function is 0x0 or 0x7 or 0x4000_0001) Assert.Equal(e, r);
        }
        // Nothing appears but the topology sub-leaves.
        Assert.Equal(input.Count(e => e.Function is not (0xB or 0x1F)), result.Count(e => e.Function is not (0xB or 0x1F)));
    }

    [Fact]
    public void Input_is_not_mutated()
    {
        var input = Supported();
        CpuidPolicy.Apply(input, 7, 8);
        Assert.Equal(Supported(), input);
    }

    [Fact]
    public void Empty_table_stays_empty()
    {
        Assert.Empty(CpuidPolicy.Apply([], 0, 1));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(256, 257)]
    [InlineData(0, 0)]
    [InlineData(0, 257)]
    public void Out_of_range_vCPU_numbers_are_refused(int index, int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuidPolicy.Apply(Supported(), index, count));
    }
}
