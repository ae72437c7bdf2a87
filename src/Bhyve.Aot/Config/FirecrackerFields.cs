using Bhyve.Aot.Vmm;
using System.Text.Json;

namespace Bhyve.Aot.Config;

/// <summary>
/// What Firecracker's configuration fields mean here: the root drive and its root= argument (as Firecracker's
/// builder does it), the fields accepted for compatibility, and the device sections refused until those devices
/// exist. Firecracker config files spell absent devices as null or [], and those run unchanged.
/// </summary>
public static class FirecrackerFields
{
    /// <summary>Refuses a Firecracker section for a device bhyve-aot does not have, naming it; null and [] are accepted.</summary>
    public static void Check(MachineFile file)
    {
        NotBuilt(file.NetworkInterfaces, "network-interfaces", "virtio-net is not built yet");
        NotBuilt(file.Vsock, "vsock", "virtio-vsock is not built yet");
        NotBuilt(file.Entropy, "entropy", "virtio-rng is not built yet");
        NotBuilt(file.Balloon, "balloon", "the balloon device is not built");
        NotBuilt(file.CpuConfig, "cpu-config", "custom CPU templates are not built (use machine-config.cpuid_hide)");
        NotBuilt(file.MmdsConfig, "mmds-config", "MMDS is not built");
        NotBuilt(file.Pmem, "pmem", "virtio-pmem is not built");
        NotBuilt(file.MemoryHotplug, "memory-hotplug", "memory hotplug is not built");
        if (file.MachineConfig?.CpuTemplate is { } template && template != "None")
            throw new ConfigException($"machine-config.cpu_template \"{template}\": only \"None\" (CPU templates are not built; use cpuid_hide)");
    }

    /// <summary>Firecracker's drive fields that are accepted with their documented effect here, or refused.</summary>
    public static void CheckDrive(DriveEntry d, string where)
    {
        if (d.CacheType is not (null or "Unsafe" or "Writeback"))
            throw new ConfigException($"{where}.cache_type \"{d.CacheType}\": expected \"Unsafe\" or \"Writeback\"");
        if (d.IoEngine is not (null or "Sync" or "Async"))
            throw new ConfigException($"{where}.io_engine \"{d.IoEngine}\": expected \"Sync\" or \"Async\"");
        if (d.RateLimiter is { ValueKind: not JsonValueKind.Null })
            throw new ConfigException($"{where}.rate_limiter: rate limiting is not built yet (give null or leave it out)");
        if (d.Socket is not null)
            throw new ConfigException($"{where}.socket: vhost-user-block is not built (give path_on_host)");
        if (d.Partuuid is not null && d.IsRootDevice != true)
            throw new ConfigException($"{where}.partuuid: only meaningful with is_root_device: true");
    }

    /// <summary>The drives with the root drive (at most one) moved first, each with its index in the file.</summary>
    public static IReadOnlyList<(DriveEntry Entry, int Index)> RootFirst(IReadOnlyList<DriveEntry> drives, out DriveEntry? root)
    {
        var indexed = drives.Select((d, i) => (Entry: d, Index: i)).ToList();
        var roots = indexed.Where(d => d.Entry.IsRootDevice == true).ToList();
        if (roots.Count > 1) throw new ConfigException($"drives[{roots[1].Index}]: a root block device already exists (drives[{roots[0].Index}])");
        root = roots.Count == 1 ? roots[0].Entry : null;
        if (roots.Count == 0 || roots[0].Index == 0) return indexed;
        indexed.RemoveAt(roots[0].Index);
        indexed.Insert(0, roots[0]);
        return indexed;
    }

    /// <summary>Firecracker's rule: root=PARTUUID=ID when a partuuid is given, else root=/dev/vda; then ro or rw.</summary>
    public static string WithRootDevice(string bootArgs, DriveEntry? root)
    {
        if (root is null) return bootArgs;
        string device = root.Partuuid is { } uuid ? $"root=PARTUUID={uuid}" : "root=/dev/vda";
        string mode = root.IsReadOnly == true ? "ro" : "rw";
        return bootArgs.Length == 0 ? $"{device} {mode}" : $"{bootArgs} {device} {mode}";
    }

    private static void NotBuilt(JsonElement? section, string name, string why)
    {
        if (section is not { } value) return;
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0) return;
        throw new ConfigException($"{name}: {why} (give null or [] or leave it out)");
    }
}
