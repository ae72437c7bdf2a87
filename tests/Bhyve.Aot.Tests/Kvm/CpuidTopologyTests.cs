using System.Numerics;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Xunit;

namespace Bhyve.Aot.Tests.Kvm;

/// <summary>
/// Every CPUID leaf that describes the topology says the same thing as <see cref="CpuTopology"/>, read the way
/// Linux 6.12 reads them (arch/x86/kernel/cpu/topology_common.c, topology_ext.c, topology_amd.c). With one vCPU
/// KVM's leaf 4 used to say two cores while leaf 1 said one logical processor, and Linux printed
/// `WARNING ... topology_common.c:57` (parse_legacy: leaf 1's count below leaf 4's cores).
/// </summary>
public class CpuidTopologyTests
{
    private const uint Intel = 0x756E_6547, Amd = 0x6874_7541, Htt = 1u << 28;

    private static KvmCpuidEntry2 Entry(uint function, uint index, uint eax, uint ebx = 0, uint ecx = 0, uint edx = 0, uint flags = 0) =>
        new() { Function = function, Index = index, Flags = flags, Eax = eax, Ebx = ebx, Ecx = ecx, Edx = edx };

    /// <summary>An Intel host's table: leaf 4 says 2 cores (EAX[31:26] = 1) and L3 shared by 16, 0xB/0x1F describe the host.</summary>
    private static KvmCpuidEntry2[] IntelHost() =>
    [
        Entry(0x0, 0, 0x1F, Intel, 0x6C65_746E, 0x4965_6E69),
        Entry(0x1, 0, 0x000A_06A4, 0x2A10_0800, 0, Htt),
        Entry(0x4, 0, 0x0400_0121, 0x01C0_003F, 0x3F, 0, 1),   // L1d, 2 cores, 1 sharing
        Entry(0x4, 1, 0x0400_0122, 0x01C0_003F, 0x3F, 0, 1),   // L1i
        Entry(0x4, 2, 0x0400_4143, 0x01C0_003F, 0x3FF, 0, 1),  // L2, 2 sharing
        Entry(0x4, 3, 0x0403_C163, 0x03C0_003F, 0x3FFF, 0, 1), // L3, 16 sharing
        Entry(0x4, 4, 0, 0, 0, 0, 1),                          // no more caches
        Entry(0xB, 0, 1, 2, 0x100, 0x2A, 1),
        Entry(0xB, 1, 4, 16, 0x201, 0x2A, 1),
        Entry(0x1F, 0, 1, 2, 0x100, 0x2A, 1),
        Entry(0x1F, 1, 4, 16, 0x201, 0x2A, 1),
    ];

    /// <summary>What KVM_GET_SUPPORTED_CPUID gives on this project's kvm_pvm AMD host (dumped with a KVM ioctl): 0xB listed empty, no 0x1F.</summary>
    private static KvmCpuidEntry2[] AmdHost() =>
    [
        Entry(0x0, 0, 0x10, Amd, 0x444D_4163, 0x6974_6E65),
        Entry(0x1, 0, 0x00A0_0F11, 0x0102_0800, 0x8120_2000, 0x078B_FBFF),
        Entry(0x4, 0, 0, 0, 0, 0, 1),
        Entry(0xB, 0, 0, 0, 0, 1, 1),
        Entry(0x8000_0000, 0, 0x8000_0022, Amd, 0x444D_4163, 0x6974_6E65),
        Entry(0x8000_0008, 0, 0x3030, 0x110A_D205, 0x7001, 0),
        Entry(0x8000_001D, 0, 0x121, 0x01C0_003F, 0x3F, 0, 1),
        Entry(0x8000_001D, 1, 0x122, 0x01C0_003F, 0x3F, 0, 1),
        Entry(0x8000_001D, 2, 0x143, 0x01C0_003F, 0x3FF, 2, 1),
        Entry(0x8000_001D, 3, 0x4163, 0x03C0_003F, 0x7FFF, 1, 1),
        Entry(0x8000_001D, 4, 0, 0, 0, 0, 1),
        Entry(0x8000_001E, 0, 0, 0, 0, 0),
    ];

    private static KvmCpuidEntry2 Find(KvmCpuidEntry2[] entries, uint function, uint index = 0) =>
        entries.Single(e => e.Function == function && e.Index == index);

    private static int CountOrder(uint n) => n <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount(n - 1);

    /// <summary>Linux's reading of leaf 0xB/0x1F: (SMT shift, threads per core, package shift, logical per package).</summary>
    private static (uint SmtShift, uint Threads, uint PkgShift, uint PerPkg) Extended(KvmCpuidEntry2[] t, uint leaf)
    {
        var smt = Find(t, leaf, 0);
        var core = Find(t, leaf, 1);
        var end = Find(t, leaf, 2);
        Assert.Equal((1u, 0u), ((smt.Ecx >> 8) & 0xFF, smt.Ecx & 0xFF));
        Assert.Equal((2u, 1u), ((core.Ecx >> 8) & 0xFF, core.Ecx & 0xFF));
        Assert.Equal(0u, (end.Ecx >> 8) & 0xFF);   // the level list ends
        Assert.All(new[] { smt, core, end }, e => Assert.Equal(CpuidPolicy.FlagSignificantIndex, e.Flags));
        return (smt.Eax & 0x1F, smt.Ebx & 0xFFFF, core.Eax & 0x1F, core.Ebx & 0xFFFF);
    }

    public static TheoryData<int, int, int> Topologies => new()
    {
        { 1, 1, 1 }, { 1, 2, 1 }, { 1, 3, 1 }, { 1, 8, 1 }, { 1, 64, 1 }, { 2, 2, 2 }, { 4, 1, 1 }, { 1, 3, 2 }, { 2, 4, 1 }, { 1, 1, 3 },
    };

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Intel_leaves_1_4_0xB_and_0x1F_agree_with_the_topology(int sockets, int cores, int threads)
    {
        var topo = new CpuTopology(sockets, cores, threads);
        for (int i = 0; i < topo.Cpus; i++)
        {
            var t = CpuidPolicy.Apply(IntelHost(), i, topo);
            var leaf1 = Find(t, 1);
            uint nproc = (leaf1.Ebx >> 16) & 0xFF;
            Assert.Equal((uint)i, leaf1.Ebx >> 24);
            Assert.Equal(topo.PerPackage > 1, (leaf1.Edx & Htt) != 0);
            Assert.Equal(1u << topo.PackageShift, nproc);
            foreach (uint leaf in new uint[] { 0xB, 0x1F })
            {
                var x = Extended(t, leaf);
                Assert.Equal(((uint)topo.ThreadBits, (uint)threads, (uint)topo.PackageShift, (uint)topo.PerPackage), x);
                Assert.All(t.Where(e => e.Function == leaf), e => Assert.Equal((uint)i, e.Edx));
            }
            // Linux's parse_legacy (Intel without 0xB): leaf 4's cores must fit leaf 1's count, the WARN at topology_common.c:57.
            uint ncores = (Find(t, 4, 0).Eax >> 26) + 1;
            Assert.True(CountOrder(nproc) >= CountOrder(ncores), $"leaf 1 count {nproc} < leaf 4 cores {ncores}");
            Assert.Equal(1u << topo.CoreBits, ncores);
            // Who shares each cache: the threads of a core for L1/L2, the package for L3; the rest of EAX is the host's.
            Assert.Equal(1u << topo.ThreadBits, ((Find(t, 4, 0).Eax >> 14) & 0xFFF) + 1);
            Assert.Equal(1u << topo.ThreadBits, ((Find(t, 4, 2).Eax >> 14) & 0xFFF) + 1);
            Assert.Equal(1u << topo.PackageShift, ((Find(t, 4, 3).Eax >> 14) & 0xFFF) + 1);
            Assert.Equal(0x163u, Find(t, 4, 3).Eax & 0x3FFF);
            Assert.Equal(0u, Find(t, 4, 4).Eax);
        }
    }

    [Theory]
    [MemberData(nameof(Topologies))]
    public void AMD_leaves_0x80000008_0x8000001D_and_0x8000001E_agree_with_the_topology(int sockets, int cores, int threads)
    {
        var topo = new CpuTopology(sockets, cores, threads);
        for (int i = 0; i < topo.Cpus; i++)
        {
            var t = CpuidPolicy.Apply(AmdHost(), i, topo);
            // KVM listed 0xB empty: it is rewritten whole (Linux's cpu_parse_topology_ext reads it on AMD too); no 0x1F appears.
            Assert.Equal(((uint)topo.ThreadBits, (uint)threads, (uint)topo.PackageShift, (uint)topo.PerPackage), Extended(t, 0xB));
            Assert.DoesNotContain(t, e => e.Function == 0x1F);
            var ext8 = Find(t, 0x8000_0008);
            Assert.Equal((uint)topo.PerPackage - 1, ext8.Ecx & 0xFF);
            Assert.Equal((uint)topo.PackageShift, (ext8.Ecx >> 12) & 0xF);
            Assert.Equal(0x7000u & ~0xF000u, ext8.Ecx & 0xFFFF_0F00);   // the other bits are the host's
            var ext1e = Find(t, 0x8000_001E);
            Assert.Equal((uint)i, ext1e.Eax);
            Assert.Equal((uint)threads - 1, (ext1e.Ebx >> 8) & 0xFF);
            Assert.Equal((uint)((i >> topo.ThreadBits) & ((1 << topo.CoreBits) - 1)), ext1e.Ebx & 0xFF);
            Assert.Equal((uint)(i >> topo.PackageShift), ext1e.Ecx & 0xFF);
            Assert.Equal(0u, (ext1e.Ecx >> 8) & 0x7);   // one node per package
            Assert.Equal(1u << topo.ThreadBits, ((Find(t, 0x8000_001D, 0).Eax >> 14) & 0xFFF) + 1);
            Assert.Equal(1u << topo.PackageShift, ((Find(t, 0x8000_001D, 3).Eax >> 14) & 0xFFF) + 1);
            Assert.Equal(0u, Find(t, 4, 0).Eax);   // AMD's leaf 4 lists no cache: left alone
        }
    }

    [Fact]
    public void Leaf_0x1F_is_not_invented_where_the_host_lacks_it_and_leaves_above_the_maximum_stay_out()
    {
        var t = CpuidPolicy.Apply(AmdHost(), 0, 2);
        Assert.DoesNotContain(t, e => e.Function == 0x1F);
        KvmCpuidEntry2[] old = [Entry(0x0, 0, 0xA, Intel, 0, 0), Entry(0x1, 0, 0x6A4, 0, 0, 0), Entry(0xB, 0, 1, 2, 0x100, 0)];
        Assert.DoesNotContain(CpuidPolicy.Apply(old, 0, 2), e => e.Function == 0xB);
    }

    [Fact]
    public void The_cpus_overload_is_one_package_of_single_threaded_cores()
    {
        Assert.Equal(CpuidPolicy.Apply(IntelHost(), 2, new CpuTopology(1, 3, 1)), CpuidPolicy.Apply(IntelHost(), 2, 3));
    }

    [Theory]
    [InlineData(2, 3, 1, "cores per socket")]
    [InlineData(1, 2, 3, "threads per core")]
    [InlineData(2, 1, 3, "threads per core")]
    [InlineData(0, 1, 1, "at least 1")]
    public void Topologies_that_APIC_ID_equals_index_cannot_describe_are_refused(int sockets, int cores, int threads, string why)
    {
        var topo = new CpuTopology(sockets, cores, threads);
        Assert.Contains(why, topo.Problem());
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuidPolicy.Apply(IntelHost(), 0, topo));
    }

    [Fact]
    public void An_index_outside_the_topology_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuidPolicy.Apply(IntelHost(), 8, new CpuTopology(2, 2, 2)));
    }
}
