using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Host;

/// <summary>Gathers everything `bhyve-aot check` reports: /dev/kvm, KVM capabilities, a smoke test, CPU, KVM module, io_uring.</summary>
public static class HostProbe
{
    /// <summary>Probes the live host (or, for the file-based parts, a tree under fs.Root). Never throws for a missing feature.</summary>
    public static HostReport Probe(HostFileSystem? fs = null)
    {
        fs ??= HostFileSystem.Live;
        var device = KvmDeviceProbe.Probe(fs);
        KvmCapabilityReport[] capabilities = [];
        var smoke = SmokeTestReport.NotRun;

        if (device.Opens && device.ApiVersion == KvmIoctl.ApiVersion)
        {
            try
            {
                using var host = KvmHost.Open(device.Path);
                capabilities = [.. KvmCapabilityCatalog.Entries.Select(e =>
                    new KvmCapabilityReport(e.Name, (int)e.Cap, e.Requirement, host.CheckExtension(e.Cap), e.Purpose))];
                smoke = KvmSmokeTest.Run(host, host.CheckExtension(KvmCap.GetTscKhz) > 0);
            }
            catch (KvmException e)
            {
                // It opened a moment ago; report the second attempt's failure as the device's.
                device = device with { Opens = false, OpenError = e.Message, ApiVersion = null };
            }
        }

        var facts = new HostFacts(device, capabilities, smoke, CpuProbe.Probe(fs), KvmFlavourProbe.Detect(fs), IoUringProbe.Probe(fs));
        return HostReport.From(facts);
    }
}
