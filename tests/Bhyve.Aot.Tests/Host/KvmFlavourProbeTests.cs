using Bhyve.Aot.Host;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

/// <summary>Flavour detection against fake /sys/module trees.</summary>
public sealed class KvmFlavourProbeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bhyve-aot-sysfs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private HostFileSystem Module(string name, params (string Name, string Value)[] parameters)
    {
        string dir = Path.Join(_root, "sys/module", name, "parameters");
        Directory.CreateDirectory(dir);
        foreach (var (p, v) in parameters) File.WriteAllText(Path.Join(dir, p), v + "\n");
        return new HostFileSystem(_root);
    }

    [Fact]
    public void IntelWithEpt()
    {
        Module("kvm");
        var m = KvmFlavourProbe.Detect(Module("kvm_intel", ("ept", "Y"), ("unrestricted_guest", "Y"), ("nested", "N")));
        Assert.Equal(KvmFlavour.Intel, m.Flavour);
        Assert.True(m.KvmLoaded);
        Assert.True(m.Ept);
        Assert.True(m.UnrestrictedGuest);
        Assert.False(m.Nested);
        Assert.Null(m.Npt);
        Assert.Empty(HostVerdict.Evaluate(HostFactsFixtures.Healthy() with { KvmModule = m }).Warnings);
    }

    [Fact]
    public void IntelWithoutEptIsShadowPaging()
    {
        var m = KvmFlavourProbe.Detect(Module("kvm_intel", ("ept", "N"), ("unrestricted_guest", "N"), ("nested", "1")));
        Assert.Equal(KvmFlavour.Intel, m.Flavour);
        Assert.False(m.Ept);
        Assert.False(m.UnrestrictedGuest);
        Assert.True(m.Nested);
        Assert.Contains("shadow paging", m.Description);
        Assert.Equal(2, HostVerdict.Evaluate(HostFactsFixtures.Healthy() with { KvmModule = m }).Warnings.Length);
    }

    [Fact]
    public void Amd()
    {
        var m = KvmFlavourProbe.Detect(Module("kvm_amd", ("npt", "1"), ("nested", "1")));
        Assert.Equal(KvmFlavour.Amd, m.Flavour);
        Assert.True(m.Npt);
        Assert.True(m.Nested);
        Assert.Null(m.Ept);
        Assert.False(m.KvmLoaded);
    }

    [Fact]
    public void Pvm()
    {
        Module("kvm");
        var m = KvmFlavourProbe.Detect(Module("kvm_pvm", ("pvm_native", "Y")));
        Assert.Equal(KvmFlavour.Pvm, m.Flavour);
        Assert.Contains("CPL0", m.Description);
        Assert.Contains("instruction emulator", m.Description);
        Assert.Contains("CPL3", m.Description);
    }

    [Fact]
    public void NoModule()
    {
        var m = KvmFlavourProbe.Detect(new HostFileSystem(_root));
        Assert.Equal(KvmFlavour.None, m.Flavour);
        Assert.False(m.KvmLoaded);
        Assert.Equal("no KVM module is loaded", m.Description);
    }

    [Fact]
    public void CoreWithoutVendorModule()
    {
        var m = KvmFlavourProbe.Detect(Module("kvm"));
        Assert.Equal(KvmFlavour.None, m.Flavour);
        Assert.True(m.KvmLoaded);
    }

    [Fact]
    public void UnreadableParameterIsUnknownNotFalse()
    {
        var m = KvmFlavourProbe.Detect(Module("kvm_intel"));
        Assert.Equal(KvmFlavour.Intel, m.Flavour);
        Assert.Null(m.Ept);
        Assert.Null(m.Nested);
    }

    [Theory]
    [InlineData("Y", true)]
    [InlineData("1", true)]
    [InlineData("N", false)]
    [InlineData("0", false)]
    [InlineData("maybe", null)]
    [InlineData(null, null)]
    public void ParsesModuleFlags(string? value, bool? expected) => Assert.Equal(expected, KvmFlavourProbe.ParseFlag(value));
}
