using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Vmm;

/// <summary>A configuration value a user gave that we cannot accept.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>The immutable description of one VM. Every front end (CLI, later a machine file) produces this.</summary>
public sealed record VmConfig
{
    public const int MaxCpus = 64;
    public const int MaxNameLength = 64;
    public const ulong DefaultMemoryBytes = 64 * GuestLayout.MiB;

    /// <summary>The VM's name (bhyve's last argument); null when none was given. Shown in messages.</summary>
    public string? Name { get; init; }
    public required string KernelPath { get; init; }
    public ulong MemoryBytes { get; init; } = DefaultMemoryBytes;
    public int Cpus { get; init; } = 1;
    public string Cmdline { get; init; } = "";
    public bool HugePages { get; init; }
    /// <summary>
    /// The machine's PCI devices, every kind of <see cref="DeviceKinds.All"/>, kept grouped by kind in registry order
    /// (and in the order given within a kind): that is the order slots are handed out in.
    /// </summary>
    public IReadOnlyList<IDeviceConfig> Devices
    {
        get => _devices;
        init => _devices = value.Select((d, i) => (d, i)).OrderBy(x => DeviceKinds.IndexOf(x.d.Kind)).ThenBy(x => x.i).Select(x => x.d).ToArray();
    }
    private readonly IReadOnlyList<IDeviceConfig> _devices = [];

    /// <summary>The virtio-blk disks among <see cref="Devices"/>; setting it replaces only those.</summary>
    public IReadOnlyList<DiskConfig> Disks
    {
        get => Of<DiskConfig>();
        init => Devices = [.. _devices.Where(d => d is not DiskConfig), .. value];
    }

    /// <summary>NVMe controllers (one namespace each) among <see cref="Devices"/>; setting it replaces only those.</summary>
    public IReadOnlyList<NvmeConfig> Nvme
    {
        get => Of<NvmeConfig>();
        init => Devices = [.. _devices.Where(d => d is not NvmeConfig), .. value];
    }

    /// <summary>The devices of one config type, in configuration order.</summary>
    public IReadOnlyList<T> Of<T>() where T : IDeviceConfig => _devices.OfType<T>().ToArray();
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
    public void Validate() => Validate(hvt: false);

    /// <summary>As Validate(); hvt: for a Solo5 hvt machine, whose RAM limits are its own (HvtLayout, checked at boot).</summary>
    public void Validate(bool hvt)
    {
        if (string.IsNullOrWhiteSpace(KernelPath)) throw new ConfigException("no kernel given (--kernel PATH)");
        if (Cpus < 1 || Cpus > MaxCpus) throw new ConfigException($"--cpus {Cpus} is out of range (1..{MaxCpus})");
        if (!hvt && GuestLayout.CheckRamSize(MemoryBytes) is { } problem) throw new ConfigException($"--memory {ByteSize.Format(MemoryBytes)}: {problem}");
        if (System.Text.Encoding.UTF8.GetByteCount(Cmdline) > GuestLayout.CmdlineMax)
            throw new ConfigException($"--cmdline is longer than {GuestLayout.CmdlineMax} bytes");
        if (Cmdline.Contains('\0')) throw new ConfigException("--cmdline contains a NUL character");
        foreach (var kind in DeviceKinds.All)
        {
            int count = _devices.Count(d => d.Kind == kind);
            if (count > kind.MaxCount) throw new ConfigException($"{count} {kind.Name} devices given ({kind.LongOption}); at most {kind.MaxCount}");
        }
        if (InitrdPath is { Length: 0 }) throw new ConfigException("--initrd: empty path");
        foreach (var group in HvtBlocks.Concat(HvtNets).GroupBy(d => d.Name))
            if (group.Count() > 1) throw new ConfigException($"hvt device '{group.Key}' is given more than once");
        if (Name is not null && !IsName(Name))
            throw new ConfigException($"VM name '{Name}': use 1..{MaxNameLength} characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '-' or '.'");
        foreach (var d in _devices) d.Validate();
        PciSlots.Assign(this);
    }

    /// <summary>A name that is safe in messages, file names and process titles.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] is not ('-' or '.')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The name for messages: "bhyve-aot: NAME: ..." when the VM has one.</summary>
    public string MessagePrefix => Name is null ? "" : $"{Name}: ";

    // Value equality, lists included, so that the three front ends can be shown to build the same machine.
    // A new property must be added here and to Config/MachineFile (VmConfigShapeTests fails until it is).
    public bool Equals(VmConfig? other) =>
        other is not null
        && Name == other.Name && KernelPath == other.KernelPath && MemoryBytes == other.MemoryBytes && Cpus == other.Cpus
        && Cmdline == other.Cmdline && HugePages == other.HugePages && InitrdPath == other.InitrdPath
        && Devices.SequenceEqual(other.Devices)
        && HvtBlocks.SequenceEqual(other.HvtBlocks) && HvtNets.SequenceEqual(other.HvtNets) && GuestArgs.SequenceEqual(other.GuestArgs)
        && CpuidHide.SequenceEqual(other.CpuidHide);

    public override int GetHashCode() => HashCode.Combine(Name, KernelPath, MemoryBytes, Cpus, Cmdline, Devices.Count);
}
