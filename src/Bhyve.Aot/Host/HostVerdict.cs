using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Host;

/// <summary>
/// Can this host run VMs, and what stands in the way. Problems block (exit status 8); warnings only inform.
/// </summary>
public sealed record HostVerdict(bool CanRunVms, string[] Problems, string[] Warnings)
{
    public const string CanRunText = "This host can run bhyve-aot VMs.";
    public const string CannotRunText = "This host cannot run bhyve-aot VMs:";

    /// <summary>A pure function of the facts, so every rule is testable without the host that would trigger it.</summary>
    public static HostVerdict Evaluate(HostFacts facts)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        var device = facts.Device;

        if (!device.Present)
            problems.Add($"{device.Path} does not exist: {MissingDeviceHint(facts)}");
        else if (!device.Opens)
            problems.Add($"{device.Path} cannot be opened read-write: {device.OpenError}" + (device.Hint is null ? "" : $"; {device.Hint}"));
        else if (device.ApiVersion != KvmIoctl.ApiVersion)
            problems.Add($"KVM API version is {device.ApiVersion}, bhyve-aot needs {KvmIoctl.ApiVersion}");

        foreach (var cap in facts.Capabilities)
        {
            if (cap.Present) continue;
            if (cap.Requirement == CapabilityRequirement.Required)
                problems.Add($"KVM lacks the required capability KVM_CAP_{cap.Name} ({cap.Purpose})");
            else if (cap.Requirement == CapabilityRequirement.Optional)
                warnings.Add($"optional KVM capability KVM_CAP_{cap.Name} is absent ({cap.Purpose})");
        }

        foreach (var step in facts.SmokeTest.Steps)
            if (step.Outcome == SmokeStepOutcome.Failed)
                problems.Add($"smoke test: {step.Name} failed: {step.Error}");
        // Only reachable with a usable device whose smoke test was not run: a bug in the probe, never a pass.
        if (device.Opens && device.ApiVersion == KvmIoctl.ApiVersion && !facts.SmokeTest.Ran)
            problems.Add("smoke test did not run");

        AddModuleWarnings(facts.KvmModule, warnings);
        AddCpuWarnings(facts.Cpu, warnings);

        var io = facts.IoUring;
        if (io.BlockEngine != IoUringProbe.IoUringEngine)
            warnings.Add($"io_uring is not usable ({IoUringShortfall(io)}): block devices would use the {io.BlockEngine}");

        return new HostVerdict(problems.Count == 0, [.. problems], [.. warnings]);
    }

    private static string MissingDeviceHint(HostFacts facts)
    {
        var cpu = facts.Cpu;
        if (facts.KvmModule.Flavour == KvmFlavour.None && !cpu.Vmx && !cpu.Svm)
            return cpu.HypervisorPresent
                ? $"the CPU shows neither VMX nor SVM; this host is a VM ({cpu.HypervisorVendor ?? "unknown hypervisor"}): enable nested virtualization in the parent hypervisor"
                : "the CPU shows neither VMX nor SVM: enable VT-x or AMD-V in the firmware setup";
        if (facts.KvmModule.Flavour == KvmFlavour.None)
            return cpu.Vmx ? "no KVM module is loaded: modprobe kvm_intel" : "no KVM module is loaded: modprobe kvm_amd";
        return "the KVM module is loaded but the device node is missing: check devtmpfs/udev, or mknod /dev/kvm c 10 232";
    }

    private static void AddModuleWarnings(KvmModuleReport module, List<string> warnings)
    {
        switch (module.Flavour)
        {
            case KvmFlavour.Pvm:
                warnings.Add(KvmFlavourProbe.PvmCaveat);
                break;
            case KvmFlavour.Intel:
                if (module.Ept == false) warnings.Add("kvm_intel runs with ept=N: guest page tables are shadowed in software, memory-heavy guests are slow");
                if (module.UnrestrictedGuest == false) warnings.Add("kvm_intel runs with unrestricted_guest=N: real-mode and big-real-mode guest code is emulated");
                break;
            case KvmFlavour.Amd:
                if (module.Npt == false) warnings.Add("kvm_amd runs with npt=N: guest page tables are shadowed in software, memory-heavy guests are slow");
                break;
        }
    }

    private static void AddCpuWarnings(CpuReport cpu, List<string> warnings)
    {
        if (cpu.HypervisorPresent)
            warnings.Add($"this host is itself a virtual machine (hypervisor {cpu.HypervisorVendor ?? "unknown"}): bhyve-aot VMs run nested and every VM exit costs more");
        if (!cpu.Popcnt)
            warnings.Add("the CPU lacks POPCNT: guests built for x86-64-v2 or later will not boot");
    }

    private static string IoUringShortfall(IoUringReport io)
    {
        if (!io.SetupWorks) return $"io_uring_setup failed: {io.SetupError}" + (io.Disabled is > 0 ? $", io_uring_disabled={io.Disabled}" : "");
        if (!io.ProbeWorks) return $"IORING_REGISTER_PROBE failed: {io.ProbeError}";
        var missing = io.Opcodes.Where(o => o.Needed && !o.Supported).Select(o => o.Name);
        return $"the kernel lacks {string.Join(", ", missing)}";
    }
}
