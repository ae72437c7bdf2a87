using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Architecture;

/// <summary>
/// Dependencies point one way (DESIGN.md; the rule is <see cref="Layers"/>): read from the compiled assemblies'
/// metadata, and from the sources for what metadata cannot show (constants).
/// </summary>
public class LayeringTests
{
    private static readonly string Library = typeof(global::Bhyve.Aot.Vmm.VmConfig).Assembly.Location;
    private static readonly string StorageSuite = typeof(global::Bhyve.Aot.StorageBench.StorageBenchProgram).Assembly.Location;
    private static readonly string Cli = typeof(global::Bhyve.Aot.Cli.Program).Assembly.Location;
    private static readonly string[] Assemblies = [Library, StorageSuite, Cli];

    private static readonly Lazy<TypeUse[]> MetadataUses = new(() => [.. Assemblies.SelectMany(MetadataReferences.Read)]);
    private static readonly Lazy<SourceNamespaceUses.Use[]> SourceUses = new(() => [.. SourceNamespaceUses.Read(Path.Combine(Repo.Root, "src"))]);

    [Fact]
    public void No_type_in_our_assemblies_uses_a_type_of_a_layer_above_it()
    {
        string[] wrong = [.. MetadataUses.Value
            .Where(u => !Layers.IsExempt(u.FromNamespace, u.ToNamespace))
            .Select(u => (Use: u, Why: Layers.Check(u.FromNamespace, u.ToNamespace)))
            .Where(x => x.Why is not null)
            .Select(x => $"{x.Why}: {x.Use}")];
        Assert.True(wrong.Length == 0, $"{wrong.Length} wrong-way uses:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void No_source_file_names_a_namespace_of_a_layer_above_it()
    {
        string[] wrong = [.. SourceUses.Value
            .Where(u => !Layers.IsExempt(u.FromNamespace, u.ToNamespace))
            .Select(u => (Use: u, Why: Layers.Check(u.FromNamespace, u.ToNamespace)))
            .Where(x => x.Why is not null)
            .Select(x => $"{x.Why}: {x.Use}")];
        Assert.True(wrong.Length == 0, $"{wrong.Length} wrong-way uses:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void Every_namespace_of_ours_is_in_a_layer()
    {
        var namespaces = MetadataUses.Value.SelectMany(u => new[] { u.FromNamespace, u.ToNamespace })
            .Where(ns => Layers.Of(ns) is not null).Distinct();
        Assert.All(namespaces, ns => Assert.True(Layers.MayUse.ContainsKey(Layers.Of(ns)!), $"{ns}: add its layer to Layers.MayUse"));
    }

    [Fact]
    public void Every_pending_exemption_still_matches_a_use()
    {
        // Once the change an exemption waits for lands, the exemption goes too.
        foreach (var (from, to, why) in Layers.PendingExemptions)
            Assert.True(
                MetadataUses.Value.Any(u => u.FromNamespace == from && u.ToNamespace == to)
                || SourceUses.Value.Any(u => u.FromNamespace == from && u.ToNamespace == to),
                $"{from} -> {to} no longer happens: delete its entry in Layers.PendingExemptions ({why})");
    }

    [Fact]
    public void The_library_references_no_front_end_and_the_suite_no_command_line()
    {
        Assert.DoesNotContain(MetadataReferences.AssemblyReferences(Library), a => a is "bhyve-aot" or "Bhyve.Aot.StorageBench");
        var suite = MetadataReferences.AssemblyReferences(StorageSuite);
        Assert.Contains("Bhyve.Aot", suite);
        Assert.DoesNotContain("bhyve-aot", suite);
        Assert.DoesNotContain("System.CommandLine", suite);
        Assert.Contains("Bhyve.Aot.StorageBench", MetadataReferences.AssemblyReferences(Cli));
    }

    /// <summary>The reader sees the kinds of use the rule depends on (so an empty list of wrong uses means something).</summary>
    [Fact]
    public void The_metadata_reader_sees_signatures_il_and_catch_clauses()
    {
        var uses = MetadataUses.Value;
        // A field's type: the machine holds its KvmHost.
        Assert.Contains(uses, u => u.FromType == "Machine" && u.ToNamespace == "Bhyve.Aot.Kvm" && u.ToType == "KvmHost" && u.Via.StartsWith("field", StringComparison.Ordinal));
        // An IL operand across assemblies: the CLI calls into the storage suite.
        Assert.Contains(uses, u => u.FromType == "BenchCommand" && u.ToAssembly == "Bhyve.Aot.StorageBench" && u.ToType == "StorageBenchProgram" && u.Via.StartsWith("IL", StringComparison.Ordinal));
        // A method signature: the smoke test takes a KvmHost.
        Assert.Contains(uses, u => u.FromType == "KvmSmokeTest" && u.ToType == "KvmHost" && u.Via.StartsWith("signature", StringComparison.Ordinal));
        // A framework type through a type reference.
        Assert.Contains(uses, u => u.ToAssembly == "System.Runtime" && u.ToType == "IDisposable");
    }

    [Theory]
    [InlineData("Bhyve.Aot.Devices.Nvme", "Bhyve.Aot.Kvm", false)]          // a device talking to KVM
    [InlineData("Bhyve.Aot.Storage", "Bhyve.Aot.Host", false)]              // the engine reading `check`'s probes
    [InlineData("Bhyve.Aot.Memory", "Bhyve.Aot.Kvm", false)]
    [InlineData("Bhyve.Aot.Vmm", "Bhyve.Aot.StorageBench", false)]
    [InlineData("Bhyve.Aot.Interop", "Bhyve.Aot.Os", false)]
    [InlineData("Bhyve.Aot.Boot.Acpi", "Bhyve.Aot.Devices.Legacy", false)]  // wrong, only exempt for now
    [InlineData("Bhyve.Aot.Devices.Virtio.Blk", "Bhyve.Aot.Storage", true)]
    [InlineData("Bhyve.Aot.Vmm", "Bhyve.Aot.Kvm", true)]
    [InlineData("Bhyve.Aot.Cli", "Bhyve.Aot.StorageBench", true)]
    [InlineData("Bhyve.Aot.Devices.Virtio", "Bhyve.Aot.Devices.Pci", true)]   // one layer
    [InlineData("System.Text.Json", "Bhyve.Aot.Vmm", true)]                  // not ours
    public void The_rule_allows_downward_uses_only(string from, string to, bool allowed) =>
        Assert.Equal(allowed, Layers.Check(from, to) is null);

    [Fact]
    public void Source_reader_sees_relative_and_qualified_names_but_not_prose()
    {
        string code = SourceNamespaceUses.StripCommentsAndStrings("""
            x = Devices.Legacy.AcpiPorts.S5SleepType; // Kvm.KvmException
            s = "Bhyve.Aot.Kvm.Vm"; /* Host.HostProbe */ c = '"';
            y = Bhyve.Aot.Kvm.KvmHost.Open();
            """);
        Assert.Contains("Devices.Legacy.AcpiPorts.S5SleepType", code);
        Assert.Contains("Bhyve.Aot.Kvm.KvmHost.Open", code);
        Assert.DoesNotContain("KvmException", code);
        Assert.DoesNotContain("Bhyve.Aot.Kvm.Vm\"", code);
        Assert.DoesNotContain("HostProbe", code);
        Assert.Equal(3, code.Split('\n').Length);
    }
}
