namespace Bhyve.Aot.Tests.Architecture;

/// <summary>
/// The layering rule of DESIGN.md as data: Interop &lt;- Os &lt;- Kvm/Memory/IoUring &lt;- Storage/Devices/Boot &lt;- Vmm
/// (and Host, the `check` probes) &lt;- Config/Api &lt;- the front ends (bhyve-aot, the storage suite). Each layer names
/// the layers it may use; a use of anything else is a wrong-way dependency. A namespace belongs to the layer its
/// name starts with (Bhyve.Aot.Devices.Virtio.Blk is in Devices).
/// </summary>
internal static class Layers
{
    public const string Root = "Bhyve.Aot";

    private static readonly string[] Base = ["Interop", "Os"];
    private static readonly string[] Core = [.. Base, "Kvm", "Memory", "IoUring"];
    private static readonly string[] Machine = [.. Core, "Storage", "Devices", "Boot", "Vmm"];
    private static readonly string[] FrontEnd = [.. Machine, "Host", "Config", "Api"];

    /// <summary>Each layer and the layers it may use besides itself.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> MayUse = new Dictionary<string, string[]>
    {
        ["Interop"] = [],
        ["Os"] = ["Interop"],
        ["Kvm"] = Base,
        ["Memory"] = Base,
        ["IoUring"] = Base,
        ["Storage"] = [.. Base, "Memory", "IoUring"],
        // A device never talks to KVM: it gets interrupt lines, doorbells and guest memory through its own interfaces.
        ["Devices"] = [.. Base, "Memory", "IoUring", "Storage"],
        // Boot never reads device constants: it gets a description of the machine that was built.
        ["Boot"] = [.. Base, "Memory", "Kvm"],
        ["Vmm"] = [.. Core, "Storage", "Devices", "Boot"],
        ["Host"] = [.. Core, "Storage"],
        ["Config"] = [.. Machine],
        ["Api"] = [.. Machine, "Config"],
        ["StorageBench"] = [.. Machine, "Host"],
        ["Cli"] = [.. FrontEnd, "StorageBench"],
    };

    /// <summary>
    /// Wrong-way uses that are known and owned, each waiting for the change that removes it. An entry that matches no
    /// use fails the test too, so it is deleted in the change that fixes it.
    /// </summary>
    public static readonly IReadOnlyList<(string From, string To, string Why)> PendingExemptions =
    [
        // Empty: Boot/Acpi now builds its tables from AcpiMachine, the description PcMachine gives it.
    ];

    /// <summary>The layer of one of our namespaces ("Bhyve.Aot.Devices.Pci" -> "Devices"), or null for anyone else's.</summary>
    public static string? Of(string ns)
    {
        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal)) return null;
        string first = ns[(Root.Length + 1)..].Split('.')[0];
        return first;
    }

    public static bool IsExempt(string fromNs, string toNs) =>
        PendingExemptions.Any(e => e.From == fromNs && e.To == toNs);

    /// <summary>Null when the use is allowed, else why not.</summary>
    public static string? Check(string fromNs, string toNs)
    {
        string? from = Of(fromNs), to = Of(toNs);
        if (from is null || to is null || from == to) return null;
        if (!MayUse.TryGetValue(from, out var allowed)) return $"{fromNs} is in no layer (add {from} to Layers.MayUse)";
        if (!MayUse.ContainsKey(to)) return $"{toNs} is in no layer (add {to} to Layers.MayUse)";
        return allowed.Contains(to) ? null : $"{from} may not use {to}";
    }
}
