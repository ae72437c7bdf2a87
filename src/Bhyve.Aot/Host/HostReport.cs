using System.Text.Json.Serialization;

namespace Bhyve.Aot.Host;

/// <summary>
/// What `bhyve-aot check` found on this host and what follows from it: the verdict (can it run VMs, the blocking
/// problems, the warnings) and the facts it was drawn from, section by section.
/// </summary>
public sealed record HostReport(
    bool CanRunVms,
    string[] Problems,
    string[] Warnings,
    KvmDeviceReport Device,
    KvmCapabilityReport[] Capabilities,
    SmokeTestReport SmokeTest,
    CpuReport Cpu,
    KvmModuleReport KvmModule,
    IoUringReport IoUring)
{
    /// <summary>Judges the facts (a pure function of them) and lays the verdict beside them.</summary>
    public static HostReport From(HostFacts facts)
    {
        var verdict = HostVerdict.Evaluate(facts);
        return new HostReport(verdict.CanRunVms, verdict.Problems, verdict.Warnings,
            facts.Device, facts.Capabilities, facts.SmokeTest, facts.Cpu, facts.KvmModule, facts.IoUring);
    }
}

/// <summary>The facts gathered by <see cref="HostProbe"/>, before any judgement.</summary>
public sealed record HostFacts(
    KvmDeviceReport Device,
    KvmCapabilityReport[] Capabilities,
    SmokeTestReport SmokeTest,
    CpuReport Cpu,
    KvmModuleReport KvmModule,
    IoUringReport IoUring);

/// <summary>/dev/kvm: whether it exists, who may use it, whether we can open it and its API version.</summary>
/// <param name="Mode">ls-style type and permissions, e.g. "crw-rw----"; null when the node could not be stat'ed.</param>
/// <param name="OpenError">why opening it read-write failed (errno text); null when it opened.</param>
/// <param name="ApiVersion">KVM_GET_API_VERSION; null when the device did not open.</param>
/// <param name="Hint">what to do about an access problem; null when there is none.</param>
public sealed record KvmDeviceReport(
    string Path,
    bool Present,
    string? Mode,
    string? Owner,
    string? Group,
    bool Readable,
    bool Writable,
    bool Opens,
    string? OpenError,
    int? ApiVersion,
    string? Hint);

/// <summary>How much bhyve-aot depends on a KVM capability.</summary>
public enum CapabilityRequirement
{
    [JsonStringEnumMemberName("required")] Required,
    [JsonStringEnumMemberName("optional")] Optional,
    /// <summary>Not a feature but a number worth knowing (vCPU and memory slot limits).</summary>
    [JsonStringEnumMemberName("value")] Value,
}

/// <summary>One KVM_CHECK_EXTENSION answer.</summary>
/// <param name="Name">the KVM_CAP_ name without its prefix, e.g. "IRQFD".</param>
/// <param name="Value">0 when absent, otherwise the capability-specific positive value.</param>
/// <param name="Purpose">what bhyve-aot uses it for.</param>
public sealed record KvmCapabilityReport(string Name, int Number, CapabilityRequirement Requirement, int Value, string Purpose)
{
    public bool Present => Value > 0;
}

public enum SmokeStepOutcome
{
    [JsonStringEnumMemberName("ok")] Ok,
    [JsonStringEnumMemberName("failed")] Failed,
    /// <summary>Not attempted because the kernel does not offer it (an optional capability is absent).</summary>
    [JsonStringEnumMemberName("skipped")] Skipped,
}

/// <summary>One step of the smoke test; Error carries the errno text when it failed or was skipped.</summary>
public sealed record SmokeStep(string Name, SmokeStepOutcome Outcome, string? Error);

/// <summary>A real VM built and torn down: VM, in-kernel irqchip + PIT, one vCPU, its TSC frequency.</summary>
/// <param name="Ran">false when /dev/kvm could not be used at all.</param>
/// <param name="TscKhz">KVM_GET_TSC_KHZ of vCPU 0; null when it was not read.</param>
public sealed record SmokeTestReport(bool Ran, bool Passed, SmokeStep[] Steps, long? TscKhz)
{
    public static SmokeTestReport NotRun { get; } = new(false, false, [], null);
}

/// <summary>The CPU as CPUID shows it to us (a hypervisor may hide or add features), plus /proc/cpuinfo.</summary>
/// <param name="HypervisorVendor">CPUID leaf 0x40000000 signature, e.g. "KVMKVMKVM"; null on bare metal.</param>
/// <param name="ProcFlags">virtualization flags from /proc/cpuinfo; null when it is not readable.</param>
public sealed record CpuReport(
    string Vendor,
    string Brand,
    bool Vmx,
    bool Svm,
    bool Popcnt,
    bool HypervisorPresent,
    string? HypervisorVendor,
    CpuinfoFlags? ProcFlags);

/// <summary>Second-level paging and tagged-TLB flags as /proc/cpuinfo lists them ("flags" and "vmx flags").</summary>
public sealed record CpuinfoFlags(bool Ept, bool Npt, bool Vpid);

/// <summary>Which vendor module backs /dev/kvm.</summary>
public enum KvmFlavour
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("kvm_intel")] Intel,
    [JsonStringEnumMemberName("kvm_amd")] Amd,
    /// <summary>PVM: paravirtual KVM on shadow page tables, no VT-x/AMD-V needed.</summary>
    [JsonStringEnumMemberName("kvm_pvm")] Pvm,
}

/// <summary>The KVM modules in /sys/module and the vendor module's parameters that matter for speed.</summary>
/// <param name="KvmLoaded">/sys/module/kvm exists (module loaded or built in).</param>
/// <param name="Ept">kvm_intel ept; null when not applicable or not readable. Likewise the other parameters.</param>
public sealed record KvmModuleReport(
    KvmFlavour Flavour,
    bool KvmLoaded,
    bool? Ept,
    bool? UnrestrictedGuest,
    bool? Npt,
    bool? Nested,
    string Description);

/// <summary>Whether the kernel supports one io_uring opcode.</summary>
/// <param name="Needed">the io_uring block engine cannot work without it.</param>
public sealed record IoUringOpcodeReport(string Name, int Opcode, bool Supported, bool Needed);

/// <summary>io_uring as the block engine would find it.</summary>
/// <param name="Disabled">/proc/sys/kernel/io_uring_disabled (0 enabled, 1 privileged only, 2 off); null when absent.</param>
/// <param name="Features">IORING_FEAT_* bits returned by io_uring_setup.</param>
/// <param name="LastOp">the highest opcode the kernel knows (io_uring_probe.last_op).</param>
/// <param name="BlockEngine">what bhyve-aot would choose: "io_uring" or "synchronous fallback".</param>
public sealed record IoUringReport(
    int? Disabled,
    bool SetupWorks,
    string? SetupError,
    uint? Features,
    bool ProbeWorks,
    string? ProbeError,
    int? LastOp,
    IoUringOpcodeReport[] Opcodes,
    string BlockEngine);
