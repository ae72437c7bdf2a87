using Bhyve.Aot.Host;

namespace Bhyve.Aot.Tests.Host;

/// <summary>Hand-built facts for verdict tests: a healthy bare-metal Intel host, to be spoiled one fact at a time.</summary>
internal static class HostFactsFixtures
{
    public static HostFacts Healthy() => new(
        new KvmDeviceReport("/dev/kvm", true, "crw-rw----", "root", "kvm", true, true, true, null, 12, null),
        [.. KvmCapabilityCatalog.Entries.Select(e => new KvmCapabilityReport(e.Name, (int)e.Cap, e.Requirement, 1, e.Purpose))],
        new SmokeTestReport(true, true,
        [
            new(KvmSmokeTest.CreateVmStep, SmokeStepOutcome.Ok, null),
            new(KvmSmokeTest.PlatformStep, SmokeStepOutcome.Ok, null),
            new(KvmSmokeTest.CreateVcpuStep, SmokeStepOutcome.Ok, null),
            new(KvmSmokeTest.TscStep, SmokeStepOutcome.Ok, null),
        ], 3_000_000),
        new CpuReport("GenuineIntel", "Test CPU", true, false, true, false, null, new CpuinfoFlags(true, false, true)),
        new KvmModuleReport(KvmFlavour.Intel, true, true, true, null, false, "hardware-assisted KVM on Intel VT-x"),
        new IoUringReport(0, true, null, 0x3ffff, true, null, 62,
            [.. IoUringProbe.EngineOpcodes.Select(o => new IoUringOpcodeReport(o.Name, (int)o.Op, true, o.Needed))],
            IoUringProbe.IoUringEngine));

    public static HostFacts WithCapability(this HostFacts facts, string name, int value) => facts with
    {
        Capabilities = [.. facts.Capabilities.Select(c => c.Name == name ? c with { Value = value } : c)],
    };
}
