using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Os;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// Reads a machine file into a VmConfig. Every problem is one ConfigException that names the file, the line and
/// column, and the field by its JSON path (MachineFileShape), in the file's own names, never the command line's.
/// Relative paths inside the file are relative to the file's directory, so a machine file works from anywhere.
/// </summary>
public static class MachineFileReader
{
    /// <summary>A machine file is a few hundred bytes; anything this large is not one.</summary>
    public const int MaxFileBytes = 1 << 20;

    public static VmConfig Load(string path)
    {
        byte[] bytes;
        try { bytes = InputFile.ReadAll(path, "machine file", MaxFileBytes); }
        catch (InputFileException e) { throw new ConfigException(e.Message); }
        var config = Parse(bytes, InputFile.Escape(path));
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        return ResolveAgainst(config, directory);
    }

    /// <summary>Parses and validates; <paramref name="source"/> names the file in messages.</summary>
    public static VmConfig Parse(string json, string source) => Parse(System.Text.Encoding.UTF8.GetBytes(json), source);

    public static VmConfig Parse(byte[] json, string source)
    {
        var context = MachineFileJsonContext.Default;
        try { _ = new System.Text.UTF8Encoding(false, true).GetCharCount(json); }
        catch (System.Text.DecoderFallbackException) { throw new ConfigException($"{source}: not a text file (invalid UTF-8)"); }
        // The shape first: syntax, duplicates, unknown fields and types, each with its line, column and JSON path.
        var shape = MachineFileShape.Check(json, source, context);
        MachineFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, context.MachineFile);
        }
        catch (JsonException e) { throw new ConfigException($"{source}{Where(e)}: {Explain(e.Path, context)}"); }
        if (file is null) throw new ConfigException($"{source}: the file holds null, not a machine");
        try
        {
            return ToVmConfig(file);
        }
        catch (ConfigException e) { throw new ConfigException($"{shape.Locate(e.Message)}: {e.Message}"); }
    }

    /// <summary>
    /// One section on its own (an API request body: PUT /machine-config, /boot-source, /drives/ID, ...), with the same
    /// rules as inside a file: unknown fields and wrong types are refused with the field named.
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

    /// <summary>Every host path in <paramref name="config"/> that is relative, made relative to <paramref name="directory"/>.</summary>
    public static VmConfig ResolveAgainst(VmConfig config, string directory)
    {
        string At(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(directory, p));
        return config with
        {
            KernelPath = At(config.KernelPath),
            InitrdPath = config.InitrdPath is { } initrd ? At(initrd) : null,
            Disks = config.Disks.Select(d => d with { Path = At(d.Path) }).ToArray(),
            Nvme = config.Nvme.Select(n => n.Path is { } p ? n with { Path = At(p) } : n).ToArray(),
            HvtBlocks = config.HvtBlocks.Select(b => b with { Target = At(b.Target) }).ToArray(),
        };
    }

    /// <summary>The file's sections turned into the model, then validated like every other front end's.</summary>
    public static VmConfig ToVmConfig(MachineFile file)
    {
        var boot = file.BootSource ?? throw new ConfigException("boot-source is missing (it names the kernel: kernel_image_path)");
        if (string.IsNullOrEmpty(boot.KernelImagePath)) throw new ConfigException("boot-source.kernel_image_path is missing");
        var m = file.MachineConfig ?? new MachineConfigSection();
        CheckFields(file, boot, m);
        FirecrackerFields.Check(file);
        // Firecracker attaches the root drive first (VirtioBlkForms) and appends root= to the command line.
        FirecrackerFields.RootFirst(file.Drives ?? [], out var root);
        var config = new VmConfig
        {
            Name = file.Name,
            KernelPath = boot.KernelImagePath,
            Cmdline = FirecrackerFields.WithRootDevice(boot.BootArgs ?? "", root),
            InitrdPath = boot.InitrdPath,
            Cpus = m.VcpuCount ?? 1,
            MemoryBytes = Memory(m),
            HugePages = m.HugePages switch
            {
                null or "None" => false,
                "2M" or "Transparent" => true,
                var other => throw new ConfigException($"machine-config.huge_pages \"{other}\": expected \"None\", \"Transparent\" or \"2M\""),
            },
            CpuidHide = CpuidHide(m.CpuidHide),
            Devices = DeviceFormsRegistry.All.SelectMany(f => f.Read(file)).ToArray(),
            HvtBlocks = (file.Hvt?.BlockDevices ?? []).Select((b, i) => Hvt($"hvt.block_devices[{i}]", b.Name, b.PathOnHost, "path_on_host")).ToArray(),
            HvtNets = (file.Hvt?.NetDevices ?? []).Select((n, i) => Hvt($"hvt.net_devices[{i}]", n.Name, n.HostDevName, "host_dev_name")).ToArray(),
            GuestArgs = file.Hvt?.Args?.ToArray() ?? [],
        };
        CheckUniqueIds(DeviceFormsRegistry.All.SelectMany(f => f.Ids(file)));
        config.Validate();
        return config;
    }

    /// <summary>The model's checks that would otherwise name a command-line option, here with the file's field names.</summary>
    private static void CheckFields(MachineFile file, BootSourceSection boot, MachineConfigSection m)
    {
        if (m.VcpuCount is { } n && (n < 1 || n > VmConfig.MaxCpus))
            throw new ConfigException($"machine-config.vcpu_count {n} is out of range (1..{VmConfig.MaxCpus})");
        if (Memory(m) is var bytes && Bhyve.Aot.Memory.GuestLayout.CheckRamSize(bytes) is { } problem)
            throw new ConfigException($"machine-config.{(m.MemSize is null ? "mem_size_mib" : "mem_size")}: {problem}");
        if (boot.BootArgs is { } args)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(args) > Bhyve.Aot.Memory.GuestLayout.CmdlineMax)
                throw new ConfigException($"boot-source.boot_args is longer than {Bhyve.Aot.Memory.GuestLayout.CmdlineMax} bytes");
            if (args.Contains('\0')) throw new ConfigException("boot-source.boot_args contains a NUL character");
        }
        if (boot.InitrdPath is { Length: 0 }) throw new ConfigException("boot-source.initrd_path is empty");
        if (file.Name is { } name && !VmConfig.IsName(name))
            throw new ConfigException($"name \"{InputFile.Escape(name)}\": use 1..{VmConfig.MaxNameLength} characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '-' or '.'");
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

    /// <summary>The model's own checks, with the entry's place in the file in front.</summary>
    internal static T Checked<T>(Action validate, T value, string where)
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

    internal static ulong Size(string text, string where) =>
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
