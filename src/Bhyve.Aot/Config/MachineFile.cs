using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bhyve.Aot.Config;

/// <summary>
/// The JSON machine file (`bhyve-aot run --config FILE`), shaped like Firecracker's configuration file: the same
/// section names (boot-source, machine-config, drives) and field names where the meaning is the same, plus nvme and
/// hvt sections and bhyve-aot's own device fields. Every field is optional in the type; MachineFileReader says which
/// are required and turns the file into a VmConfig, MachineFileWriter turns a VmConfig back into one.
/// </summary>
public sealed class MachineFile
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("boot-source")] public BootSourceSection? BootSource { get; set; }
    [JsonPropertyName("machine-config")] public MachineConfigSection? MachineConfig { get; set; }
    [JsonPropertyName("drives")] public List<DriveEntry>? Drives { get; set; }
    [JsonPropertyName("nvme")] public List<NvmeEntry>? Nvme { get; set; }
    [JsonPropertyName("hvt")] public HvtSection? Hvt { get; set; }
    /// <summary>Firecracker's logger section (as PUT /logger): where log lines go, at which level.</summary>
    [JsonPropertyName("logger")] public LoggerSection? Logger { get; set; }
    /// <summary>Firecracker's metrics section (as PUT /metrics): where the JSON metrics lines go.</summary>
    [JsonPropertyName("metrics")] public MetricsSection? Metrics { get; set; }

    // Firecracker sections for devices bhyve-aot does not have yet. A Firecracker config file spells them out as
    // null or []; that is accepted, and anything else is refused by name (MachineFileReader), never ignored.
    [JsonPropertyName("network-interfaces")] public JsonElement? NetworkInterfaces { get; set; }
    [JsonPropertyName("vsock")] public JsonElement? Vsock { get; set; }
    [JsonPropertyName("entropy")] public JsonElement? Entropy { get; set; }
    [JsonPropertyName("balloon")] public JsonElement? Balloon { get; set; }
    [JsonPropertyName("cpu-config")] public JsonElement? CpuConfig { get; set; }
    [JsonPropertyName("mmds-config")] public JsonElement? MmdsConfig { get; set; }
    [JsonPropertyName("pmem")] public JsonElement? Pmem { get; set; }
    [JsonPropertyName("memory-hotplug")] public JsonElement? MemoryHotplug { get; set; }
}

/// <summary>Firecracker's Logger object.</summary>
public sealed class LoggerSection
{
    [JsonPropertyName("log_path")] public string? LogPath { get; set; }
    /// <summary>Error, Warning, Info, Debug, Trace or Off (any case); Info by default.</summary>
    [JsonPropertyName("level")] public string? Level { get; set; }
    [JsonPropertyName("show_level")] public bool? ShowLevel { get; set; }
    [JsonPropertyName("show_log_origin")] public bool? ShowLogOrigin { get; set; }
    /// <summary>Firecracker's module filter; bhyve-aot's lines have no module paths, so it is accepted and has no effect.</summary>
    [JsonPropertyName("module")] public string? Module { get; set; }
}

/// <summary>Firecracker's Metrics object.</summary>
public sealed class MetricsSection
{
    [JsonPropertyName("metrics_path")] public string? MetricsPath { get; set; }
    [JsonPropertyName("emit_id")] public bool? EmitId { get; set; }
    [JsonPropertyName("properties")] public Dictionary<string, string>? Properties { get; set; }
}

public sealed class BootSourceSection
{
    [JsonPropertyName("kernel_image_path")] public string? KernelImagePath { get; set; }
    [JsonPropertyName("boot_args")] public string? BootArgs { get; set; }
    [JsonPropertyName("initrd_path")] public string? InitrdPath { get; set; }
}

public sealed class MachineConfigSection
{
    [JsonPropertyName("vcpu_count")] public int? VcpuCount { get; set; }
    /// <summary>Firecracker's field: whole MiB.</summary>
    [JsonPropertyName("mem_size_mib")] public ulong? MemSizeMib { get; set; }
    /// <summary>bhyve-aot's alternative with a suffix ("512M", "1G"), for sizes that are not whole MiB.</summary>
    [JsonPropertyName("mem_size")] public string? MemSize { get; set; }
    /// <summary>Firecracker's values: "None", "Transparent" or "2M" (all but None mean transparent huge pages here).</summary>
    [JsonPropertyName("huge_pages")] public string? HugePages { get; set; }
    /// <summary>Firecracker's SMT flag: accepted; every vCPU is presented as its own core either way.</summary>
    [JsonPropertyName("smt")] public bool? Smt { get; set; }
    /// <summary>Firecracker's dirty-page tracking (for diff snapshots): accepted; bhyve-aot has no snapshots yet, so it has no effect.</summary>
    [JsonPropertyName("track_dirty_pages")] public bool? TrackDirtyPages { get; set; }
    /// <summary>Firecracker's CPU template: only "None" (use cpuid_hide to hide features).</summary>
    [JsonPropertyName("cpu_template")] public string? CpuTemplate { get; set; }
    /// <summary>CPU features hidden from the guest's CPUID, by /proc/cpuinfo name (`--cpuid-hide`).</summary>
    [JsonPropertyName("cpuid_hide")] public List<string>? CpuidHide { get; set; }
}

/// <summary>One virtio-blk disk (Firecracker's drives entry).</summary>
public sealed class DriveEntry
{
    /// <summary>A label; only checked to be unique.</summary>
    [JsonPropertyName("drive_id")] public string? DriveId { get; set; }
    [JsonPropertyName("path_on_host")] public string? PathOnHost { get; set; }
    [JsonPropertyName("is_read_only")] public bool? IsReadOnly { get; set; }
    /// <summary>Firecracker's root-device flag: this disk becomes /dev/vda and "root=/dev/vda rw" (or ro, or root=PARTUUID=) is appended to boot_args.</summary>
    [JsonPropertyName("is_root_device")] public bool? IsRootDevice { get; set; }
    /// <summary>With is_root_device: the root partition's PARTUUID, for root=PARTUUID=.</summary>
    [JsonPropertyName("partuuid")] public string? Partuuid { get; set; }
    /// <summary>Firecracker's "Unsafe" (flush requests are not honoured) or "Writeback" (they are): bhyve-aot always honours flushes, so both run the same.</summary>
    [JsonPropertyName("cache_type")] public string? CacheType { get; set; }
    /// <summary>Firecracker's "Sync" or "Async": bhyve-aot picks io_uring where it works and falls back to synchronous I/O either way.</summary>
    [JsonPropertyName("io_engine")] public string? IoEngine { get; set; }
    /// <summary>Rate limiting is not built: only null is accepted.</summary>
    [JsonPropertyName("rate_limiter")] public JsonElement? RateLimiter { get; set; }
    /// <summary>vhost-user-block is not built: only null is accepted.</summary>
    [JsonPropertyName("socket")] public string? Socket { get; set; }
    [JsonPropertyName("discard")] public string? Discard { get; set; }
    [JsonPropertyName("direct")] public bool? Direct { get; set; }
    [JsonPropertyName("queues")] public int? Queues { get; set; }
    [JsonPropertyName("queue_size")] public int? QueueSize { get; set; }
    [JsonPropertyName("serial")] public string? Serial { get; set; }
    /// <summary>When set, the file is created sparse with this size ("1G").</summary>
    [JsonPropertyName("create_size")] public string? CreateSize { get; set; }
    [JsonPropertyName("pci_slot")] public int? PciSlot { get; set; }
    /// <summary>OFD-lock the image (true): a second VM opening it for writing is refused. false is `--disk ...,lock=off`.</summary>
    [JsonPropertyName("lock")] public bool? Lock { get; set; }
}

/// <summary>One NVMe controller with one namespace.</summary>
public sealed class NvmeEntry
{
    [JsonPropertyName("drive_id")] public string? DriveId { get; set; }
    [JsonPropertyName("path_on_host")] public string? PathOnHost { get; set; }
    /// <summary>A RAM-backed namespace of this size ("64M") instead of a file.</summary>
    [JsonPropertyName("ram_size")] public string? RamSize { get; set; }
    [JsonPropertyName("is_read_only")] public bool? IsReadOnly { get; set; }
    [JsonPropertyName("dsm")] public string? Dsm { get; set; }
    [JsonPropertyName("queues")] public int? Queues { get; set; }
    [JsonPropertyName("queue_size")] public int? QueueSize { get; set; }
    [JsonPropertyName("sector_size")] public int? SectorSize { get; set; }
    [JsonPropertyName("serial")] public string? Serial { get; set; }
    [JsonPropertyName("direct")] public bool? Direct { get; set; }
    [JsonPropertyName("create_size")] public string? CreateSize { get; set; }
    [JsonPropertyName("pci_slot")] public int? PciSlot { get; set; }
}

/// <summary>Solo5 hvt devices and the unikernel's arguments.</summary>
public sealed class HvtSection
{
    [JsonPropertyName("block_devices")] public List<HvtBlockEntry>? BlockDevices { get; set; }
    [JsonPropertyName("net_devices")] public List<HvtNetEntry>? NetDevices { get; set; }
    [JsonPropertyName("args")] public List<string>? Args { get; set; }
}

public sealed class HvtBlockEntry
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("path_on_host")] public string? PathOnHost { get; set; }
}

public sealed class HvtNetEntry
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>The tap interface (Firecracker's network-interfaces field name).</summary>
    [JsonPropertyName("host_dev_name")] public string? HostDevName { get; set; }
}
