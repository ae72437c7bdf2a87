using System.Text.Json;
using Bhyve.Aot.Host;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

public class HostReportJsonTests
{
    private static string Serialize(HostReport r) => JsonSerializer.Serialize(r, HostReportJsonContext.Printable.HostReport);

    [Fact]
    public void RoundTripsThroughTheSourceGeneratedContext()
    {
        var facts = HostFactsFixtures.Healthy().WithCapability("TSC_CONTROL", 0) with
        {
            KvmModule = new KvmModuleReport(KvmFlavour.Pvm, true, null, null, null, null, KvmFlavourProbe.PvmCaveat),
        };
        var report = HostReport.From(facts);
        string json = Serialize(report);

        var back = JsonSerializer.Deserialize(json, HostReportJsonContext.Default.HostReport);
        Assert.NotNull(back);
        Assert.Equal(json, Serialize(back));
        Assert.Equal(report.Warnings, back.Warnings);
        Assert.Equal(KvmFlavour.Pvm, back.KvmModule.Flavour);
        Assert.Equal(report.Capabilities.Length, back.Capabilities.Length);
    }

    [Fact]
    public void UsesSnakeCaseAsTheMachineFileDoesAndReadableEnumValues()
    {
        var report = HostReport.From(HostFactsFixtures.Healthy().WithCapability("IRQFD", 0));
        using var doc = JsonDocument.Parse(Serialize(report));
        var root = doc.RootElement;
        Assert.False(root.GetProperty("can_run_vms").GetBoolean());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("problems").ValueKind);
        Assert.Contains("KVM_CAP_IRQFD", root.GetProperty("problems")[0].GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
        Assert.Equal("required", root.GetProperty("capabilities")[0].GetProperty("requirement").GetString());
        Assert.Equal("kvm_intel", root.GetProperty("kvm_module").GetProperty("flavour").GetString());
        Assert.Equal("ok", root.GetProperty("smoke_test").GetProperty("steps")[0].GetProperty("outcome").GetString());
        Assert.Equal(12, root.GetProperty("device").GetProperty("api_version").GetInt32());
        Assert.Equal("io_uring", root.GetProperty("io_uring").GetProperty("block_engine").GetString());
    }
}
