using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// Reads a machine file into a VmConfig. Every problem is one ConfigException that names the file, and the line and
/// field where JSON says where. Relative paths inside a file resolve against the file's directory, so a machine
/// directory can be moved or run from anywhere.
/// </summary>
public static class MachineFileReader
{
    /// <summary>A machine file is a few hundred bytes; anything this large is not one.</summary>
    public const int MaxFileBytes = 1 << 20;

    public static VmConfig Load(string path)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ConfigException($"machine file {path}: no such file");
            if (info.Length > MaxFileBytes) throw new ConfigException($"machine file {path}: larger than {MaxFileBytes >> 20} MiB, not a machine file");
            text = File.ReadAllText(path);
        }
        catch (IOException e) { throw new ConfigException($"machine file {path}: {e.Message}"); }
        catch (UnauthorizedAccessException) { throw new ConfigException($"machine file {path}: permission denied"); }
        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses and validates; <paramref name="source"/> names the file in messages; relative paths resolve against <paramref name="baseDirectory"/> when given.</summary>
    public static VmConfig Parse(string json, string source, string? baseDirectory = null)
    {
        var context = MachineFileJsonContext.Default;
        // Syntax first, so that "not JSON" and "JSON of the wrong shape" get different messages.
        var syntax = new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
        try
        {
            using var _ = JsonDocument.Parse(json, syntax);
        }
        catch (JsonException e) { throw new ConfigException($"{source}{Where(e)}: not valid JSON"); }
        // Then a field given twice, which would otherwise be blamed on the field's type.
        try
        {
            using var _ = JsonDocument.Parse(json, syntax with { AllowDuplicateProperties = false });
        }
        catch (JsonException e) { throw new ConfigException($"{source}{Where(e)}: a field is given twice{At(e.Path)}"); }

        MachineFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, context.MachineFile);
        }
        catch (JsonException e) { throw new ConfigException($"{source}{Where(e)}: {Explain(e.Path, context)}"); }
        if (file is null) throw new ConfigException($"{source}: the file holds null, not a machine");
        try
        {
            return ToVmConfig(file, baseDirectory);
        }
        catch (ConfigException e) { throw new ConfigException($"{source}: {e.Message}"); }
    }

    /// <summary>
    /// One section on its own (an API request body: PUT /machine-config, /boot-source, /drives/ID, ...), with the same
    /// rules and messages as inside a file: unknown fields and wrong types are refused with the field named.
    /// </summary>
    public static T ParseSection<T>(string json, JsonTypeInfo<T> type, string section) where T : class
    {
        var syntax = new JsonDocumentOptions { AllowDuplicateProperties = false };
        try
        {
            using var document = JsonDocument.Parse(json, syntax);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ConfigException($"{section}: the body must be a JSON object");
        }
        catch (JsonException e) { throw new ConfigException($"{section}: not valid JSON{Where(e)} or a field is given twice{At(e.Path)}"); }
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new ConfigException($"{section}: the body must be a JSON object");
        }
        catch (JsonException e) { throw new ConfigException($"{section}: {Explain(e.Path, MachineFileJsonContext.Default, type)}"); }
    }

    /// <summary>The file's sections turned into the model, then validated like every other front end's.</summary>
    public static VmConfig ToVmConfig(MachineFile file, string? baseDirectory = null)
    {
        var boot = file.BootSource ?? throw new ConfigException("boot-source is missing (it names the kernel: kernel_image_path)");
        if (string.IsNullOrEmpty(boot.KernelImagePath)) throw new ConfigException("boot-source.kernel_image_path is missing");
        var m = file.MachineConfig ?? new MachineConfigSection();
        FirecrackerFields.Check(file);
        string? Resolve(string? path) => path is null || baseDirectory is null || Path.IsPathRooted(path) ? path : ResolvedPath(baseDirectory, path);
        // Firecracker attaches the root drive first (so it is /dev/vda) and appends root= to the command line.
        var drives = FirecrackerFields.RootFirst(file.Drives ?? [], out var root);
        var config = new VmConfig
        {
            Name = file.Name,
            KernelPath = Resolve(boot.KernelImagePath)!,
            Cmdline = FirecrackerFields.WithRootDevice(boot.BootArgs ?? "", root),
            InitrdPath = Resolve(boot.InitrdPath),
            Cpus = m.VcpuCount ?? 1,
            MemoryBytes = Memory(m),
            HugePages = m.HugePages switch
            {
                null or "None" => false,
                "2M" or "Transparent" => true,
                var other => throw new ConfigException($"machine-config.huge_pages \"{other}\": expected \"None\", \"Transparent\" or \"2M\""),
            },
            CpuidHide = CpuidHide(m.CpuidHide),
            Disks = drives.Select(d => Drive(d.Entry, $"drives[{d.Index}]", Resolve)).ToArray(),
            Nvme = (file.Nvme ?? []).Select((n, i) => Nvme(n, $"nvme[{i}]", Resolve)).ToArray(),
            HvtBlocks = (file.Hvt?.BlockDevices ?? []).Select((b, i) => Hvt($"hvt.block_devices[{i}]", b.Name, Resolve(b.PathOnHost), "path_on_host")).ToArray(),
            HvtNets = (file.Hvt?.NetDevices ?? []).Select((n, i) => Hvt($"hvt.net_devices[{i}]", n.Name, n.HostDevName, "host_dev_name")).ToArray(),
            GuestArgs = file.Hvt?.Args?.ToArray() ?? [],
        };
        CheckUniqueIds((file.Drives ?? []).Select(d => d.DriveId).Concat((file.Nvme ?? []).Select(n => n.DriveId)));
        config.Validate();
        return config;
    }

    /// <summary>
    /// A path relative to the file's directory, as the process will open it: relative to the current directory when
    /// it lies below it (so `config print` of a file in the current directory shows its paths as written), else absolute.
    /// </summary>
    private static string ResolvedPath(string baseDirectory, string path)
    {
        string full = Path.GetFullPath(Path.Combine(baseDirectory, path));
        string cwd = Path.TrimEndingDirectorySeparator(Directory.GetCurrentDirectory()) + Path.DirectorySeparatorChar;
        return full.StartsWith(cwd, StringComparison.Ordinal) ? full[cwd.Length..] : full;
    }

    private static ulong Memory(MachineConfigSection m)
    {
        if (m.MemSizeMib is not null && m.MemSize is not null) throw new ConfigException("machine-config: give mem_size_mib or mem_size, not both");
        if (m.MemSizeMib is { } mib)
            return mib <= ulong.MaxValue >> 20 ? mib << 20 : throw new ConfigException($"machine-config.mem_size_mib {mib} is out of range");
        if (m.MemSize is { } text)
            return ByteSize.TryParse(text, out ulong bytes) ? bytes : throw new ConfigException($"machine-config.mem_size \"{text}\" is not a size (e.g. 512M)");
        return VmConfig.DefaultMemoryBytes;
    }

    private static IReadOnlyList<CpuidFeature> CpuidHide(List<string>? names)
    {
        if (names is null) return [];
        // One name per entry: a comma inside an entry would slip a second name past this list's shape.
        if (names.FirstOrDefault(n => n.Contains(',')) is { } joined) throw new ConfigException($"machine-config.cpuid_hide \"{joined}\": one feature name per entry");
        var features = CpuidFeature.ParseList(string.Join(',', names), out string? error);
        return error is null ? features : throw new ConfigException($"machine-config.cpuid_hide: {error}");
    }

    private static DiskConfig Drive(DriveEntry d, string where, Func<string?, string?> resolve)
    {
        if (string.IsNullOrEmpty(d.PathOnHost)) throw new ConfigException($"{where}.path_on_host is missing");
        FirecrackerFields.CheckDrive(d, where);
        ulong create = d.CreateSize is null ? 0 : Size(d.CreateSize, $"{where}.create_size");
        var disk = new DiskConfig
        {
            Path = resolve(d.PathOnHost)!,
            ReadOnly = d.IsReadOnly ?? false,
            Discard = d.Discard switch
            {
                null or "unmap" => DiscardMode.Unmap,
                "ignore" => DiscardMode.Ignore,
                var other => throw new ConfigException($"{where}.discard \"{other}\": expected \"unmap\" or \"ignore\""),
            },
            Direct = d.Direct ?? false,
            Serial = d.Serial ?? "",
            Create = d.CreateSize is not null,
            CreateSize = create,
            PciSlot = d.PciSlot,
            Lock = d.Lock ?? true,
        };
        disk = disk with { Queues = d.Queues ?? disk.Queues, QueueSize = d.QueueSize ?? disk.QueueSize };
        return Checked(disk.Validate, disk, where);
    }

    private static NvmeConfig Nvme(NvmeEntry n, string where, Func<string?, string?> resolve)
    {
        if (n.PathOnHost is null && n.RamSize is null) throw new ConfigException($"{where}: give path_on_host or ram_size");
        var defaults = new NvmeConfig();
        var nvme = new NvmeConfig
        {
            Path = resolve(n.PathOnHost),
            RamBytes = n.RamSize is null ? 0 : Size(n.RamSize, $"{where}.ram_size"),
            ReadOnly = n.IsReadOnly ?? false,
            Dsm = n.Dsm switch
            {
                null or "auto" => DsmMode.Auto,
                "enable" => DsmMode.Enable,
                "disable" => DsmMode.Disable,
                var other => throw new ConfigException($"{where}.dsm \"{other}\": expected \"auto\", \"enable\" or \"disable\""),
            },
            Queues = n.Queues ?? defaults.Queues,
            QueueSize = n.QueueSize ?? defaults.QueueSize,
            SectorSize = n.SectorSize ?? defaults.SectorSize,
            Serial = n.Serial ?? "",
            Direct = n.Direct ?? false,
            Create = n.CreateSize is not null,
            CreateSize = n.CreateSize is null ? 0 : Size(n.CreateSize, $"{where}.create_size"),
            PciSlot = n.PciSlot,
        };
        return Checked(nvme.Validate, nvme, where);
    }

    /// <summary>The model's own checks, with the entry's place in the file in front.</summary>
    private static T Checked<T>(Action validate, T value, string where)
    {
        try
        {
            validate();
            return value;
        }
        catch (ConfigException e) { throw new ConfigException($"{where}: {e.Message}"); }
    }

    private static HvtDeviceConfig Hvt(string where, string? name, string? target, string targetField)
    {
        if (string.IsNullOrEmpty(name)) throw new ConfigException($"{where}.name is missing");
        if (string.IsNullOrEmpty(target)) throw new ConfigException($"{where}.{targetField} is missing");
        return HvtDeviceConfig.Parse(where, $"{name}={target}");
    }

    private static ulong Size(string text, string where) =>
        ByteSize.TryParse(text, out ulong bytes) && bytes != 0 ? bytes : throw new ConfigException($"{where} \"{text}\" is not a size (e.g. 1G)");

    private static void CheckUniqueIds(IEnumerable<string?> ids)
    {
        foreach (var group in ids.Where(id => id is not null).GroupBy(id => id))
            if (group.Count() > 1) throw new ConfigException($"drive_id \"{group.Key}\" is used twice");
    }

    private static string At(string? path) => path is { Length: > 2 } ? $" ({path[2..]})" : "";

    private static string Where(JsonException e) => e.LineNumber is { } line ? $" line {line + 1}" : "";

    /// <summary>
    /// Words a deserialization error from its JSON path alone: the exception's message is not used because a
    /// NativeAOT build with UseSystemResourceKeys replaces it with a resource key.
    /// </summary>
    private static string Explain(string? path, MachineFileJsonContext context, JsonTypeInfo? section = null)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "the top level must be an object with boot-source, machine-config, drives, ...";
        string shown = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        if (LastName(path) is not { } name) return $"{shown}: not valid here";
        var property = (section is null ? KnownTypes(context) : [section, .. KnownTypes(context)]).SelectMany(t => t.Properties).FirstOrDefault(p => p.Name == name);
        if (property is null) return $"{shown}: unknown field '{name}' (see the MACHINE FILE section of the README)";
        return $"{shown}: expected {Describe(property.PropertyType)}";
    }

    private static IEnumerable<JsonTypeInfo> KnownTypes(MachineFileJsonContext c) =>
    [
        c.MachineFile, c.BootSourceSection, c.MachineConfigSection, c.DriveEntry, c.NvmeEntry, c.HvtSection, c.HvtBlockEntry, c.HvtNetEntry,
        c.LoggerSection, c.MetricsSection,
    ];

    private static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return "a string";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(int) || t == typeof(ulong)) return "a whole number";
        if (t == typeof(List<string>)) return "a list of strings";
        if (t == typeof(JsonElement)) return "null (this Firecracker device is not built yet)";
        if (t == typeof(Dictionary<string, string>)) return "an object of strings";
        if (t.IsGenericType) return "a list of objects";
        return "an object";
    }

    /// <summary>The last property name in a JSON path such as $.machine-config.vcpu_count, $['a b'].x or $.hvt.args[0].</summary>
    private static string? LastName(string path)
    {
        string p = path;
        while (p.EndsWith(']') && !p.EndsWith("']", StringComparison.Ordinal))
        {
            int open = p.LastIndexOf('[');
            if (open < 0) return null;
            p = p[..open];
        }
        if (p.EndsWith("']", StringComparison.Ordinal))
        {
            int open = p.LastIndexOf("['", StringComparison.Ordinal);
            return open < 0 ? null : p[(open + 2)..^2];
        }
        int dot = p.LastIndexOf('.');
        return dot < 0 || dot == p.Length - 1 ? null : p[(dot + 1)..];
    }
}
