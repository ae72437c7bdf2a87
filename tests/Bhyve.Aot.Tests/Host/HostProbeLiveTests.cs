using System.Text.Json;
using Bhyve.Aot.Cli;
using Bhyve.Aot.Host;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

/// <summary>Probes the machine the tests run on. It needs a working /dev/kvm: on a host without KVM these fail.</summary>
public class HostProbeLiveTests
{
    [Fact]
    public void KvmOpensAndTheSmokeTestPasses()
    {
        var report = HostProbe.Probe();
        Assert.True(report.Device.Opens, report.Device.OpenError);
        Assert.Equal(12, report.Device.ApiVersion);
        Assert.True(report.SmokeTest.Passed, string.Join("; ", report.SmokeTest.Steps.Select(s => $"{s.Name}: {s.Outcome} {s.Error}")));
        Assert.Equal(4, report.SmokeTest.Steps.Length);
        Assert.True(report.CanRunVms, string.Join("; ", report.Problems));
        Assert.All(report.Capabilities.Where(c => c.Requirement == CapabilityRequirement.Required), c => Assert.True(c.Present, c.Name));
        if (report.Capabilities.Single(c => c.Name == "GET_TSC_KHZ").Present)
            Assert.True(report.SmokeTest.TscKhz > 0);
    }

    [Fact]
    public void IoUringReadvIsReportedConsistentlyWithSetup()
    {
        var io = HostProbe.Probe().IoUring;
        var readv = io.Opcodes.Single(o => o.Name == "READV");
        if (io.SetupWorks)
        {
            // READV is as old as io_uring itself (5.1), and the probe (5.6) is older than anything we support.
            Assert.True(io.ProbeWorks, io.ProbeError);
            Assert.True(readv.Supported);
            Assert.True(io.LastOp >= (int)Interop.IoUringOp.Write);
        }
        else
        {
            Assert.False(readv.Supported);
            Assert.NotNull(io.SetupError);
            Assert.Equal(IoUringProbe.SynchronousEngine, io.BlockEngine);
        }
    }

    /// <summary>`check` names the engine a disk gets on this host: the engine's own requirements decide both.</summary>
    [Fact]
    public void CheckNamesTheEngineTheFactoryPicks()
    {
        string reported = HostProbe.Probe().IoUring.BlockEngine;
        using var scratch = new Storage.StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        using var engine = BlockEngineFactory.Create(file, BlockEngineOptions.Default);
        Assert.Equal(reported, engine.Name);
        Assert.Equal(IoUringProbe.IoUringEngine, reported);   // this host has a working io_uring
    }

    [Fact]
    public void CpuVendorIsReadFromCpuid()
    {
        var cpu = HostProbe.Probe().Cpu;
        Assert.Contains(cpu.Vendor, new[] { "GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls", "  Shanghai  ".Trim() });
        if (cpu.HypervisorPresent) Assert.False(string.IsNullOrEmpty(cpu.HypervisorVendor));
    }

    [Fact]
    public void CheckCommandPrintsParseableJsonAndExitsWithTheVerdict()
    {
        var output = new StringWriter();
        int code = CheckCommand.Run(json: true, output);
        using var doc = JsonDocument.Parse(output.ToString());
        bool canRun = doc.RootElement.GetProperty("can_run_vms").GetBoolean();
        // The envelope: which format this is and which bhyve-aot wrote it, first.
        Assert.Equal(CheckCommand.Schema, doc.RootElement.GetProperty("schema").GetString());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("version").GetString()));
        Assert.Equal("schema", doc.RootElement.EnumerateObject().First().Name);
        Assert.Equal(canRun ? 0 : ExitCodes.HostUnsupported, code);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("problems").ValueKind);
        Assert.Equal(canRun, doc.RootElement.GetProperty("problems").GetArrayLength() == 0);
    }

    [Fact]
    public void CheckCommandPrintsTheVerdictAsText()
    {
        var output = new StringWriter();
        int code = CheckCommand.Run(json: false, output);
        Assert.Contains(code == 0 ? HostVerdict.CanRunText : HostVerdict.CannotRunText, output.ToString());
    }
}
