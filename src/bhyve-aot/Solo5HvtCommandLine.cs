using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Devices.Hvt;

namespace Bhyve.Aot.Cli;

/// <summary>
/// solo5-hvt's command line (tenders/hvt/hvt_main.c and its modules), read the way it reads it, in its two passes:
/// first up to the KERNEL operand (the first word not starting with '-', or the word after "--"), stopping at
/// --help or --version; then, once the unikernel's manifest is known, every option before KERNEL: --mem=MiB,
/// --block:NAME=PATH, --block-sector-size:NAME=N, --net:NAME=TAP, --net-mac:NAME=MAC, --dumpcore=DIR. Device names
/// must be declared in the manifest with that type. Words after KERNEL are the unikernel's arguments.
/// Every refusal is solo5-hvt's sentence; the caller prints it after "solo5-hvt: " and exits 1.
/// </summary>
public static class Solo5HvtCommandLine
{
    /// <summary>solo5-hvt's default guest memory (512 MiB).</summary>
    public const ulong DefaultMemoryBytes = 512UL << 20;
    private const int MaxNameLength = Solo5Manifest.NameMax;

    /// <summary>What the first pass found: a terminal option, or the kernel's position.</summary>
    public enum FirstPass { Help, Version, MissingKernel, Kernel }

    public static FirstPass Scan(IReadOnlyList<string> args, out int kernelIndex)
    {
        int i = 0;
        for (; i < args.Count && args[i].StartsWith('-'); i++)
        {
            if (args[i] == "--") { i++; break; }
            if (args[i] == "--help") { kernelIndex = -1; return FirstPass.Help; }
            if (args[i] == "--version") { kernelIndex = -1; return FirstPass.Version; }
        }
        kernelIndex = i < args.Count ? i : -1;
        return kernelIndex < 0 ? FirstPass.MissingKernel : FirstPass.Kernel;
    }

    /// <summary>The options the second pass read, by manifest name.</summary>
    public sealed class Options
    {
        /// <summary>--mem in bytes, as given (before solo5-hvt's rounding to whole 2 MiB pages).</summary>
        public ulong MemoryBytes { get; set; } = DefaultMemoryBytes;
        public Dictionary<string, string> Blocks { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, ushort> BlockSizes { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Nets { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, ulong> Macs { get; } = new(StringComparer.Ordinal);
        public string? DumpCoreDirectory { get; set; }
        public List<string> GuestArgs { get; } = [];
    }

    /// <summary>A refusal: the lines solo5-hvt prints (each after "solo5-hvt: "), and whether its usage text follows.</summary>
    public sealed record Refusal(IReadOnlyList<string> Lines, bool WithUsage);

    /// <summary>The second pass: every word before the kernel is an option of ours, checked against the manifest.</summary>
    public static Options ParseOptions(IReadOnlyList<string> args, int kernelIndex, Solo5Manifest manifest, out Refusal? refusal)
    {
        var o = new Options();
        refusal = null;
        int i = 0;
        for (; i < kernelIndex; i++)
        {
            string a = args[i];
            if (a == "--") continue;
            var warnings = new List<string>();
            bool matched;
            if (a.StartsWith("--mem=", StringComparison.Ordinal))
            {
                if (!TryParseMem(a[6..], out ulong bytes))
                {
                    refusal = new Refusal(["Malformed argument to --mem"], false);
                    return o;
                }
                o.MemoryBytes = bytes;
                matched = true;
            }
            else matched = TryModuleOption(a, manifest, o, warnings);
            if (!matched)
            {
                refusal = new Refusal([.. warnings, $"Invalid option: `{a}'"], true);
                return o;
            }
        }
        for (i = kernelIndex + 1; i < args.Count; i++) o.GuestArgs.Add(args[i]);
        return o;
    }

    /// <summary>sscanf("%zd") then MiB: a leading decimal number, at least 1; more than fits in 64 bits is the maximum.</summary>
    internal static bool TryParseMem(string text, out ulong bytes)
    {
        bytes = 0;
        int p = 0;
        while (p < text.Length && char.IsWhiteSpace(text[p])) p++;
        bool negative = p < text.Length && text[p] == '-';
        if (p < text.Length && text[p] is '+' or '-') p++;
        int start = p;
        ulong mib = 0;
        bool overflow = false;
        for (; p < text.Length && char.IsAsciiDigit(text[p]); p++)
        {
            if (mib > (ulong.MaxValue >> 20) / 10) overflow = true;
            else mib = mib * 10 + (ulong)(text[p] - '0');
        }
        if (p == start || negative || (mib == 0 && !overflow)) return false;
        bytes = overflow || mib > ulong.MaxValue >> 20 ? ulong.MaxValue : mib << 20;
        return true;
    }

    private static bool TryModuleOption(string a, Solo5Manifest manifest, Options o, List<string> warnings)
    {
        if (TrySplit(a, "--block:", out string name, out string value))
        {
            if (!Declared(manifest, name, Solo5DeviceType.BlockBasic, warnings)) return false;
            o.Blocks[name] = value;
            return true;
        }
        if (TrySplit(a, "--block-sector-size:", out name, out value))
        {
            if (!TryParseU16(value, out ushort size)) return false;
            if (HvtBlockFile.CheckBlockSize(size) is { } bad) { warnings.Add(bad); return false; }
            if (!Declared(manifest, name, Solo5DeviceType.BlockBasic, warnings)) return false;
            o.BlockSizes[name] = size;
            return true;
        }
        if (TrySplit(a, "--net:", out name, out value))
        {
            if (!Declared(manifest, name, Solo5DeviceType.NetBasic, warnings)) return false;
            o.Nets[name] = value;
            return true;
        }
        if (TrySplit(a, "--net-mac:", out name, out value))
        {
            if (HvtTap.ParseMac(value) is not { } mac) return false;
            if (!Declared(manifest, name, Solo5DeviceType.NetBasic, warnings)) return false;
            o.Macs[name] = mac;
            return true;
        }
        if (a.StartsWith("--dumpcore=", StringComparison.Ordinal))
        {
            o.DumpCoreDirectory = a["--dumpcore=".Length..];
            return true;
        }
        return false;
    }

    /// <summary>PREFIX NAME=VALUE with NAME 1-67 of [A-Za-z0-9] (solo5-hvt's scanf set) and a non-empty VALUE without spaces.</summary>
    private static bool TrySplit(string a, string prefix, out string name, out string value)
    {
        name = value = "";
        if (!a.StartsWith(prefix, StringComparison.Ordinal)) return false;
        string rest = a[prefix.Length..];
        int eq = rest.IndexOf('=');
        if (eq <= 0 || eq > MaxNameLength || eq == rest.Length - 1) return false;
        name = rest[..eq];
        value = rest[(eq + 1)..];
        if (!name.All(char.IsAsciiLetterOrDigit)) return false;
        int space = value.IndexOfAny([' ', '\t', '\n']);
        if (space == 0) return false;
        if (space > 0) value = value[..space];
        return true;
    }

    private static bool TryParseU16(string text, out ushort value)
    {
        value = 0;
        int digits = 0;
        uint v = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) break;
            v = Math.Min(v * 10 + (uint)(c - '0'), 1_000_000);
            digits++;
        }
        if (digits == 0) return false;
        value = v > ushort.MaxValue ? (ushort)0 : (ushort)v;   // out of range: refused as a bad block size
        return true;
    }

    private static bool Declared(Solo5Manifest manifest, string name, Solo5DeviceType type, List<string> warnings)
    {
        if (manifest.Devices.Any(e => e.Name == name && e.Type == type)) return true;
        warnings.Add($"Resource not declared in manifest: '{name}'");
        return false;
    }

    /// <summary>
    /// solo5-hvt's memory rule (hvt_x86_mem_size): down to whole 2 MiB pages, at least one; above 4 GiB refused.
    /// Returns the size, a warning when it was adjusted, or the refusal.
    /// </summary>
    public static ulong AdjustMemory(ulong requested, out string? warning, out string? refusal)
    {
        warning = refusal = null;
        ulong mem = requested / HvtLayout.RamAlignment * HvtLayout.RamAlignment;
        if (mem == 0) mem = HvtLayout.RamAlignment;
        if (mem != requested) warning = $"adjusting memory to {mem} bytes";
        if (mem > HvtLayout.MaxRam) refusal = $"guest memory size {mem} bytes exceeds the max size {HvtLayout.MaxRam} bytes";
        return mem;
    }

    /// <summary>The devices the manifest declares that the options leave unattached, in solo5-hvt's words, or empty.</summary>
    public static IReadOnlyList<string> Unattached(Solo5Manifest manifest, Options o) =>
        manifest.Devices
            .Where(e => !(e.Type == Solo5DeviceType.BlockBasic ? o.Blocks.ContainsKey(e.Name) : o.Nets.ContainsKey(e.Name)))
            .Select(e => $"Device '{e.Name}' of type {Solo5Manifest.TypeName(e.Type)} declared but not attached.")
            .ToArray();

    public static string Usage(string prog) =>
        $"""
        usage: {prog} [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
        KERNEL is the filename of the unikernel to run.
        ARGS are optional arguments passed to the unikernel.
        Core options:
          [ --mem=512 ] (guest memory in MB)
            --help (display this help)
            --version (display version information)
        Compiled-in modules: core block net dumpcore
        Compiled-in module options:
            --block:NAME=PATH (attach block device/file at PATH as block storage NAME)
          [ --block-sector-size:NAME=SECTORSIZE ] (set sector size for block device NAME; must be a power of two greater than or equal 512)
            --net:NAME=IFACE (attach tap at IFACE as network NAME)
          [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)
            --dumpcore=DIR (enable guest core dump on abort/trap)
        bhyve-aot runs this as solo5-hvt would: hvt ABI versions 1 and 2; exit status 1 for every refusal and fault,
        otherwise the unikernel's own; SIGINT and SIGTERM end the run with "Exiting on signal N" and status 1.
        """;
}
