using System.Text.Json.Serialization;

namespace Bhyve.Aot.StorageBench;

/// <summary>Who does the I/O.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BenchRunner>))]
public enum BenchRunner
{
    [JsonStringEnumMemberName("bhyve-aot")] BhyveAot,
    [JsonStringEnumMemberName("qemu")] Qemu,
    /// <summary>Host-native io_uring (fio, or our own loop) and fallocate on the same file: the physical limit.</summary>
    [JsonStringEnumMemberName("host")] Host,
}

/// <summary>The emulated device a VMM target uses (None for the host).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BenchDevice>))]
public enum BenchDevice
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("virtio-blk")] VirtioBlk,
    [JsonStringEnumMemberName("nvme")] Nvme,
}

/// <summary>One column of the result tables: a runner with a device.</summary>
public sealed record BenchTarget(BenchRunner Runner, BenchDevice Device)
{
    public static BenchTarget Host { get; } = new(BenchRunner.Host, BenchDevice.None);

    /// <summary>"bhyve-aot virtio-blk", "qemu nvme", "host".</summary>
    public string Label => Runner switch
    {
        BenchRunner.Host => "host",
        BenchRunner.BhyveAot => "bhyve-aot " + DeviceName(Device),
        _ => "qemu " + DeviceName(Device),
    };

    /// <summary>The storage-bench guest's dev= value.</summary>
    public static string DeviceName(BenchDevice device) => device switch
    {
        BenchDevice.VirtioBlk => "virtio-blk",
        BenchDevice.Nvme => "nvme",
        _ => "none",
    };
}
