using Bhyve.Aot.Host;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

public class HostVerdictTests
{
    [Fact]
    public void HealthyHostCanRunVmsWithoutWarnings()
    {
        var verdict = HostVerdict.Evaluate(HostFactsFixtures.Healthy());
        Assert.True(verdict.CanRunVms);
        Assert.Empty(verdict.Problems);
        Assert.Empty(verdict.Warnings);
    }

    [Fact]
    public void MissingDeviceBlocksAndSaysWhy()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            Device = new KvmDeviceReport("/dev/kvm", false, null, null, null, false, false, false, "No such file or directory (errno 2)", null, null),
            Capabilities = [],
            SmokeTest = SmokeTestReport.NotRun,
            KvmModule = new KvmModuleReport(KvmFlavour.None, false, null, null, null, null, "no KVM module is loaded"),
        };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.False(verdict.CanRunVms);
        var problem = Assert.Single(verdict.Problems);
        Assert.Contains("/dev/kvm does not exist", problem);
        Assert.Contains("modprobe kvm_intel", problem);
    }

    [Fact]
    public void MissingDeviceOnVmWithoutVmxPointsAtNestedVirtualization()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            Device = new KvmDeviceReport("/dev/kvm", false, null, null, null, false, false, false, null, null, null),
            Capabilities = [],
            SmokeTest = SmokeTestReport.NotRun,
            Cpu = new CpuReport("GenuineIntel", "", false, false, true, true, "KVMKVMKVM", null),
            KvmModule = new KvmModuleReport(KvmFlavour.None, false, null, null, null, null, ""),
        };
        Assert.Contains("nested virtualization", Assert.Single(HostVerdict.Evaluate(facts).Problems));
    }

    [Fact]
    public void DeniedDeviceBlocksWithTheHint()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            Device = new KvmDeviceReport("/dev/kvm", true, "crw-rw----", "root", "kvm", false, false, false,
                "Permission denied (errno 13)", null, "add yourself to group kvm"),
            Capabilities = [],
            SmokeTest = SmokeTestReport.NotRun,
        };
        var problem = Assert.Single(HostVerdict.Evaluate(facts).Problems);
        Assert.Contains("Permission denied", problem);
        Assert.Contains("add yourself to group kvm", problem);
    }

    [Fact]
    public void WrongApiVersionBlocks()
    {
        var facts = HostFactsFixtures.Healthy() with { Device = HostFactsFixtures.Healthy().Device with { ApiVersion = 11 } };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.False(verdict.CanRunVms);
        Assert.Contains("API version is 11", Assert.Single(verdict.Problems));
    }

    [Theory]
    [InlineData("IRQFD")]
    [InlineData("SYNC_MMU")]
    [InlineData("SET_TSS_ADDR")]
    public void MissingRequiredCapabilityBlocksAndNamesIt(string cap)
    {
        var verdict = HostVerdict.Evaluate(HostFactsFixtures.Healthy().WithCapability(cap, 0));
        Assert.False(verdict.CanRunVms);
        Assert.Contains($"KVM_CAP_{cap}", Assert.Single(verdict.Problems));
    }

    [Theory]
    [InlineData("TSC_CONTROL")]
    [InlineData("READONLY_MEM")]
    [InlineData("SPLIT_IRQCHIP")]
    public void MissingOptionalCapabilityOnlyWarns(string cap)
    {
        var verdict = HostVerdict.Evaluate(HostFactsFixtures.Healthy().WithCapability(cap, 0));
        Assert.True(verdict.CanRunVms);
        Assert.Empty(verdict.Problems);
        Assert.Contains($"KVM_CAP_{cap}", Assert.Single(verdict.Warnings));
    }

    [Fact]
    public void ZeroValueCapabilityIsNeitherProblemNorWarning()
    {
        var verdict = HostVerdict.Evaluate(HostFactsFixtures.Healthy().WithCapability("NR_MEMSLOTS", 0));
        Assert.True(verdict.CanRunVms);
        Assert.Empty(verdict.Warnings);
    }

    [Fact]
    public void FailedSmokeStepBlocksWithItsError()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            SmokeTest = new SmokeTestReport(true, false,
            [
                new(KvmSmokeTest.CreateVmStep, SmokeStepOutcome.Ok, null),
                new(KvmSmokeTest.PlatformStep, SmokeStepOutcome.Failed, "KVM_CREATE_IRQCHIP failed: Invalid argument (errno 22)"),
            ], null),
        };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.False(verdict.CanRunVms);
        Assert.Contains("KVM_CREATE_IRQCHIP failed", Assert.Single(verdict.Problems));
    }

    [Fact]
    public void SmokeTestThatDidNotRunOnAUsableDeviceIsNoPass()
    {
        var verdict = HostVerdict.Evaluate(HostFactsFixtures.Healthy() with { SmokeTest = SmokeTestReport.NotRun });
        Assert.False(verdict.CanRunVms);
    }

    [Fact]
    public void NestedAndParavirtualKvmOnlyWarn()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            Cpu = new CpuReport("AuthenticAMD", "", false, false, true, true, "KVMKVMKVM", null),
            KvmModule = new KvmModuleReport(KvmFlavour.Pvm, true, null, null, null, null, KvmFlavourProbe.PvmCaveat),
        };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.True(verdict.CanRunVms);
        Assert.Contains(verdict.Warnings, w => w.Contains("CPL0") && w.Contains("instruction emulator"));
        Assert.Contains(verdict.Warnings, w => w.Contains("KVMKVMKVM"));
    }

    [Fact]
    public void ShadowPagingOnlyWarns()
    {
        var facts = HostFactsFixtures.Healthy() with { KvmModule = HostFactsFixtures.Healthy().KvmModule with { Ept = false } };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.True(verdict.CanRunVms);
        Assert.Contains("ept=N", Assert.Single(verdict.Warnings));
    }

    [Fact]
    public void UnusableIoUringOnlyWarns()
    {
        var facts = HostFactsFixtures.Healthy() with
        {
            IoUring = new IoUringReport(2, false, "Operation not permitted (errno 1)", null, false, null, null, [], IoUringProbe.SynchronousEngine),
        };
        var verdict = HostVerdict.Evaluate(facts);
        Assert.True(verdict.CanRunVms);
        var warning = Assert.Single(verdict.Warnings);
        Assert.Contains("io_uring_disabled=2", warning);
        Assert.Contains(IoUringProbe.SynchronousEngine, warning);
    }
}
