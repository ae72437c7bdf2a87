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
    }
}
