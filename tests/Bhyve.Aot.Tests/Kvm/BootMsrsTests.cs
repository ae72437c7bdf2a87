using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Xunit;

namespace Bhyve.Aot.Tests.Kvm;

/// <summary>BootMsrs: the MSRs we set as firmware would, by CPU vendor and family.</summary>
public class BootMsrsTests
{
    private static KvmCpuidEntry2[] Cpu(uint vendorEbx, uint leaf1Eax) =>
        [new() { Function = 0, Eax = 0x10, Ebx = vendorEbx }, new() { Function = 1, Eax = leaf1Eax }];

    [Fact]
    public void AMD_family_0x19_gets_HWCR_TscFreqSel()
    {
        // This project's host: AuthenticAMD, leaf 1 EAX 0x00A00F11 (family 0xF + 0xA = 0x19).
        Assert.Equal([(0xC001_0015u, 1UL << 24)], BootMsrs.For(Cpu(0x6874_7541, 0x00A0_0F11)));
    }

    [Fact]
    public void Intel_and_old_AMD_get_nothing()
    {
        Assert.Empty(BootMsrs.For(Cpu(0x756E_6547, 0x000A_06A4)));   // GenuineIntel
        Assert.Empty(BootMsrs.For(Cpu(0x6874_7541, 0x0000_0F48)));   // AMD family 0xF (K8)
        Assert.Empty(BootMsrs.For([]));
    }
}
