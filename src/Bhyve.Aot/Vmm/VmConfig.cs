using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Vmm;

/// <summary>A configuration value a user gave that we cannot accept.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>The immutable description of one VM. Every front end (CLI, later a machine file) produces this.</summary>
public sealed record VmConfig
{
    public const int MaxCpus = 64;

    public required string KernelPath { get; init; }
    public ulong MemoryBytes { get; init; } = 64 * GuestLayout.MiB;
    public int Cpus { get; init; } = 1;
    public string Cmdline { get; init; } = "";
    public bool HugePages { get; init; }
    public IReadOnlyList<DiskConfig> Disks { get; init; } = [];
    /// <summary>NVMe controllers, one namespace each.</summary>
    public IReadOnlyList<NvmeConfig> Nvme { get; init; } = [];
    /// <summary>Initial ramdisk for a Linux kernel.</summary>
    public string? InitrdPath { get; init; }
    /// <summary>Solo5 hvt block devices by manifest name.</summary>
    public IReadOnlyList<HvtDeviceConfig> HvtBlocks { get; init; } = [];
    /// <summary>Solo5 hvt network devices (tap interfaces) by manifest name.</summary>
    public IReadOnlyList<HvtDeviceConfig> HvtNets { get; init; } = [];
    /// <summary>CPU features hidden from the guest's CPUID (--cpuid-hide).</summary>
    public IReadOnlyList<Kvm.CpuidFeature> CpuidHide { get; init; } = [];
    /// <summary>Arguments after `--`, handed to a unikernel as its command line.</summary>
    public IReadOnlyList<string> GuestArgs { get; init; } = [];

    /// <summary>All checks on user-supplied values, in one place; throws ConfigException with one clear sentence.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(KernelPath)) throw new ConfigException("no kernel given (--kernel PATH)");
        if (Cpus < 1 || Cpus > MaxCpus) throw new ConfigException($"--cpus {Cpus} is out of range (1..{MaxCpus})");
        if (GuestLayout.CheckRamSize(MemoryBytes) is { } problem) throw new ConfigException($"--memory {ByteSize.Format(MemoryBytes)}: {problem}");
        if (System.Text.Encoding.UTF8.GetByteCount(Cmdline) > GuestLayout.CmdlineMax)
            throw new ConfigException($"--cmdline is longer than {GuestLayout.CmdlineMax} bytes");
        if (Cmdline.Contains('\0')) throw new ConfigException("--cmdline contains a NUL character");
        if (Disks.Count > 8) throw new ConfigException($"{Disks.Count} disks given; at most 8");
        if (Nvme.Count > 8) throw new ConfigException($"{Nvme.Count} NVMe controllers given; at most 8");
        if (InitrdPath is { Length: 0 }) throw new ConfigException("--initrd: empty path");
        foreach (var group in HvtBlocks.Concat(HvtNets).GroupBy(d => d.Name))
            if (group.Count() > 1) throw new ConfigException($"hvt device '{group.Key}' is given more than once");
    }
}
