using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Host;

/// <summary>
/// Proves KVM works rather than trusting its capability list: builds a VM with the in-kernel irqchip and PIT,
/// one vCPU with its kvm_run page, reads the vCPU's TSC frequency, and tears it all down.
/// </summary>
public static class KvmSmokeTest
{
    public const string CreateVmStep = "create VM";
    public const string PlatformStep = "irqchip + PIT";
    public const string CreateVcpuStep = "create vCPU 0";
    public const string TscStep = "TSC frequency";

    /// <param name="tscKhzOffered">KVM_CAP_GET_TSC_KHZ is present: a failed read is then a failure, not a skip.</param>
    public static SmokeTestReport Run(KvmHost host, bool tscKhzOffered)
    {
        var steps = new List<SmokeStep>();
        long? tscKhz = null;
        using var vm = Step(steps, CreateVmStep, host.CreateVm);
        if (vm is null) return Done(steps, tscKhz);
        if (!Step(steps, PlatformStep, vm.CreatePlatform)) return Done(steps, tscKhz);

        using var vcpu = Step(steps, CreateVcpuStep, () => vm.CreateVcpu(0));
        if (vcpu is null) return Done(steps, tscKhz);

        int khz = vcpu.GetTscKhz();
        if (khz >= 0)
        {
            tscKhz = khz;
            steps.Add(new SmokeStep(TscStep, SmokeStepOutcome.Ok, null));
        }
        else
        {
            string error = $"KVM_GET_TSC_KHZ failed: {Libc.Describe(-khz)}";
            steps.Add(new SmokeStep(TscStep, tscKhzOffered ? SmokeStepOutcome.Failed : SmokeStepOutcome.Skipped, error));
        }
        return Done(steps, tscKhz);
    }

    private static T? Step<T>(List<SmokeStep> steps, string name, Func<T> action) where T : class
    {
        try
        {
            var value = action();
            steps.Add(new SmokeStep(name, SmokeStepOutcome.Ok, null));
            return value;
        }
        catch (KvmException e)
        {
            steps.Add(new SmokeStep(name, SmokeStepOutcome.Failed, e.Message));
            return null;
        }
    }

    private static bool Step(List<SmokeStep> steps, string name, Action action) =>
        Step(steps, name, () => { action(); return steps; }) is not null;

    private static SmokeTestReport Done(List<SmokeStep> steps, long? tscKhz) =>
        new(true, steps.Count == 4 && steps.All(s => s.Outcome != SmokeStepOutcome.Failed), [.. steps], tscKhz);
}
