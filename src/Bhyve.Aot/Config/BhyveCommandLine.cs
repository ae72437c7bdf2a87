using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>What a bhyve-style command line asks for: the machine, and the run-time switches that are not part of it.</summary>
public sealed record BhyveInvocation(VmConfig Config, bool Stats, bool Overcommit = false);

/// <summary>What `-h`, `-s help` and `-l help` ask to see instead of a VM.</summary>
public enum BhyveHelp
{
    None,
    Usage,
    Slots,
    Lpc,
}

/// <summary>
/// bhyve's command line, read as bhyve(8) defines it: single-letter options that may be grouped (`-AHP`), an option's
/// value either attached (`-c2`) or the next word, options first and the VM name last. As in bhyve, options set
/// configuration variables (bhyve_config(5)) in the order given: `-k FILE` reads a file of `name=value` lines and
/// `-o name=value` sets one, so `-c 2` and `-o cpus=2` are the same. bhyve-aot boots a kernel itself, with no boot
/// ROM or bhyveload, so it adds three variables bhyve leaves free, `kernel`, `initrd` and `cmdline`, and three short
/// options bhyve does not use for them: `-b KERNEL`, `-i INITRD`, `-t CMDLINE`. Long options from `run` also read:
/// `--stats`, `--huge-pages`, `--overcommit`, `--cpuid-hide LIST`.
/// </summary>
public static class BhyveCommandLine
{
    /// <summary>Letters that take a value.</summary>
    private const string WithValue = "cmslkoUKpGfrnbit";

    /// <summary>bhyve switches that change nothing here, accepted so that bhyve command lines work unchanged (the manual says why each is harmless).</summary>
    public const string Ignored = "aACDHPSuWwxY";

    /// <summary>bhyve's default guest RAM (bhyve(8): "The default is 256M").</summary>
    public const ulong DefaultMemoryBytes = 256 * GuestLayout.MiB;

    /// <summary>A bhyve configuration file (-k) is a few dozen lines.</summary>
    public const int MaxConfigFileBytes = 1 << 20;

    /// <summary>The `-s` emulations and `-l` devices there are, for `-s help` and `-l help`.</summary>
    public static readonly string[] Emulations = ["hostbridge", "amd_hostbridge", "lpc", "virtio-blk", "nvme"];
    public static readonly string[] LpcDevices = ["com1"];

    /// <summary>Returns null when help was asked for (-h, -s help, -l help); throws ConfigException with one sentence for anything wrong.</summary>
    public static BhyveInvocation? Parse(IReadOnlyList<string> args) => Parse(args, out _);

    public static BhyveInvocation? Parse(IReadOnlyList<string> args, out BhyveHelp help)
    {
        help = BhyveHelp.None;
        var state = new State();
        int i = 0;
        for (; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--") { i++; break; }
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                switch (a)
                {
                    case "--stats": state.Stats = true; break;
                    case "--huge-pages": state.HugePages = true; break;
                    case "--overcommit": state.Overcommit = true; break;
                    case var _ when a.StartsWith("--cpuid-hide=", StringComparison.Ordinal): state.HideCpuid(a["--cpuid-hide=".Length..]); break;
                    case "--cpuid-hide":
                        if (++i >= args.Count) throw new ConfigException("--cpuid-hide needs a value (e.g. xsave,avx)");
                        state.HideCpuid(args[i]);
                        break;
                    case "--help": help = BhyveHelp.Usage; return null;
                    default:
                        throw new ConfigException($"unknown option {InputFile.Escape(a)} (the bhyve form takes single-letter options, --stats, --huge-pages, --overcommit and --cpuid-hide; see bhyve-aot -h)");
                }
                continue;
            }
            if (a.Length < 2 || a[0] != '-') break;   // the first operand ends the options, as with getopt
            for (int j = 1; j < a.Length; j++)
            {
                char letter = a[j];
                if (WithValue.Contains(letter))
                {
                    string value;
                    if (j + 1 < a.Length) value = a[(j + 1)..];
                    else if (i + 1 < args.Count) value = args[++i];
                    else throw new ConfigException($"-{letter} needs a value");
                    if (letter == 's' && value == "help") { help = BhyveHelp.Slots; return null; }
                    if (letter == 'l' && value == "help") { help = BhyveHelp.Lpc; return null; }
                    state.Apply(letter, value);
                    break;
                }
                if (letter == 'h') { help = BhyveHelp.Usage; return null; }
                if (!Ignored.Contains(letter)) throw Refuse(letter);
            }
        }
        var operands = args.Skip(i).ToArray();
        if (operands.Length > 1)
            throw new ConfigException($"unexpected '{InputFile.Escape(operands[1])}' after the VM name '{InputFile.Escape(operands[0])}' (options go before the name)");
        // As in bhyve, the operand sets `name`; a configuration file may give it instead.
        if (operands.Length == 1) state.Set("name", operands[0], "VMNAME");
        return new BhyveInvocation(state.Build(), state.Stats, state.Overcommit);
    }

    /// <summary>Every bhyve option bhyve-aot does not take, with the reason.</summary>
    private static ConfigException Refuse(char letter) => new(letter switch
    {
        'e' => "-e: exiting on unhandled I/O port accesses is not supported (they read as all ones, writes are ignored)",
        'p' => "-p: pinning vCPUs to host CPUs is not supported (use taskset(1) on the bhyve-aot process)",
        'G' => "-G: the gdb debug server is not supported",
        'f' => "-f: fw_cfg is not supported (there is no firmware to read it)",
        'r' => "-r: resuming from a snapshot is not supported",
        'n' => "-n: NUMA domains are not supported",
        'k' or 'o' => $"-{letter} needs a value",
        _ => $"-{letter}: unknown option (see bhyve-aot -h)",
    });

    /// <summary>The text `-s help` and `-l help` print, one name a line as bhyve does.</summary>
    public static string HelpText(BhyveHelp help) => help switch
    {
        BhyveHelp.Slots => string.Join('\n', Emulations),
        BhyveHelp.Lpc => string.Join('\n', LpcDevices),
        _ => "",
    };

    private sealed class State
    {
        /// <summary>Configuration variables in the order they were set; a later value replaces an earlier one, as in bhyve.</summary>
        private readonly Dictionary<string, (string Value, string Origin)> _vars = new(StringComparer.Ordinal);
        /// <summary>`-s` arguments by slot, already checked; `pci.0.N.0.*` variables are laid over them at Build.</summary>
        private readonly SortedDictionary<int, string> _slotTexts = [];
        private readonly List<CpuidFeature> _cpuidHide = [];
        public bool Stats;
        public bool HugePages;
        public bool Overcommit;

        public void HideCpuid(string list)
        {
            var features = CpuidFeature.ParseList(list, out string? error);
            if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
            foreach (var f in features) if (!_cpuidHide.Contains(f)) _cpuidHide.Add(f);
        }

        public void Set(string name, string value, string origin) => _vars[name] = (value, origin);

        public void Apply(char letter, string value)
        {
            switch (letter)
            {
                case 'c':
                    BhyveCpuOption.Parse(value);   // checked here, so the error names -c
                    foreach (var key in new[] { "cpus", "sockets", "cores", "threads" }) _vars.Remove(key);
                    foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        int eq = part.IndexOf('=');
                        if (eq < 0) Set("cpus", part, $"-c {value}");
                        else Set(part[..eq], part[(eq + 1)..], $"-c {value}");
                    }
                    break;
                case 'm':
                    CheckMemory(value, $"-m {value}");
                    Set("memory.size", value, $"-m {value}");
                    break;
                case 's':
                    var slot = BhyveSlot.Parse(value);
                    if (_slotTexts.ContainsKey(slot.Slot) || _vars.Keys.Any(k => k.StartsWith($"pci.0.{slot.Slot}.0.", StringComparison.Ordinal)))
                        throw new ConfigException(slot.Emulation == BhyveEmulation.HostBridge && slot.Slot == PciSlots.HostBridge
                            ? "-s 0,hostbridge is given twice"
                            : $"-s {value}: PCI slot {slot.Slot} is already taken");
                    _slotTexts[slot.Slot] = value;
                    break;
                case 'l': CheckConsole(value); Set("lpc.com1.path", "stdio", $"-l {value}"); break;
                case 'k': ReadConfigFile(value); break;
                case 'o':
                    int at = value.IndexOf('=');
                    if (at <= 0) throw new ConfigException($"-o {InputFile.Escape(value)}: expected name=value (bhyve_config(5) names, e.g. -o memory.size=1G)");
                    Set(value[..at], value[(at + 1)..], $"-o {value[..at]}");
                    break;
                case 'b': Set("kernel", value, "-b"); break;
                case 'i': Set("initrd", value, "-i"); break;
                case 't': Set("cmdline", value, "-t"); break;
                case 'U' or 'K': break;   // SMBIOS UUID, keyboard layout: there are no SMBIOS tables and no keyboard to give them to
                default: throw Refuse(letter);
            }
        }

        /// <summary>bhyve_config(5)'s file form: `name=value` lines, no spaces around '='; blank lines and '#' lines skipped.</summary>
        private void ReadConfigFile(string path)
        {
            byte[] bytes;
            try { bytes = InputFile.ReadAll(path, "-k", MaxConfigFileBytes); }
            catch (InputFileException e) { throw new ConfigException(e.Message); }
            string text;
            try { text = new System.Text.UTF8Encoding(false, true).GetString(bytes); }
            catch (System.Text.DecoderFallbackException) { throw new ConfigException($"-k {InputFile.Escape(path)}: not a text file (invalid UTF-8)"); }
            string[] lines = text.Split('\n');
            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n].TrimEnd('\r');
                if (line.Length == 0 || line[0] == '#') continue;
                int eq = line.IndexOf('=');
                if (eq <= 0 || line[..eq].Contains(' '))
                    throw new ConfigException($"-k {InputFile.Escape(path)} line {n + 1}: expected name=value, got '{InputFile.Escape(line)}'");
                Set(line[..eq], line[(eq + 1)..], $"-k {InputFile.Escape(path)} line {n + 1}: {line[..eq]}");
            }
        }

        private static ulong CheckMemory(string value, string label)
        {
            if (!BhyveSize.TryParse(value, out ulong bytes)) throw new ConfigException($"{label}: not a size ({ByteSize.Examples})");
            if (GuestLayout.CheckRamSize(bytes) is { } problem) throw new ConfigException($"{label}: {problem}");
            return bytes;
        }

        /// <summary>COM1 on stdio is the one console there is, and it is always there; anything else is refused.</summary>
        private static void CheckConsole(string value)
        {
            int comma = value.IndexOf(',');
            string device = (comma < 0 ? value : value[..comma]).ToLowerInvariant();
            string backend = comma < 0 ? "" : value[(comma + 1)..];
            if (device == "com1" && backend == "stdio") return;
            throw new ConfigException(device switch
            {
                "com1" => $"-l {value}: COM1 can only be wired to stdio (-l com1,stdio)",
                "com2" or "com3" or "com4" => $"-l {value}: only COM1 is emulated (-l com1,stdio)",
                "bootrom" => $"-l {value}: there is no boot ROM; bhyve-aot loads the kernel itself (-b KERNEL or -o kernel=PATH)",
                _ => $"-l {value}: not supported (the only LPC device is COM1: -l com1,stdio; see -l help)",
            });
        }

        /// <summary>bhyve_config(5)'s `%(name)` references, `%%` for a literal '%'.</summary>
        private string Expand(string value, string origin, int depth = 0)
        {
            if (!value.Contains('%')) return value;
            if (depth > 16) throw new ConfigException($"{origin}: %(...) references nest too deeply (a loop?)");
            var sb = new System.Text.StringBuilder();
            for (int k = 0; k < value.Length; k++)
            {
                if (value[k] != '%') { sb.Append(value[k]); continue; }
                if (k + 1 < value.Length && value[k + 1] == '%') { sb.Append('%'); k++; continue; }
                if (k + 1 < value.Length && value[k + 1] == '(' && value.IndexOf(')', k) is var close and > 0)
                {
                    string name = value[(k + 2)..close];
                    if (!_vars.TryGetValue(name, out var referenced)) throw new ConfigException($"{origin}: %({name}) names a variable that is not set");
                    sb.Append(Expand(referenced.Value, origin, depth + 1));
                    k = close;
                    continue;
                }
                sb.Append('%');
            }
            return sb.ToString();
        }

        /// <summary>Names other variables refer to with %(name): user variables, which bhyve keeps and so do we.</summary>
        private HashSet<string> Referenced()
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (value, _) in _vars.Values)
                for (int k = value.IndexOf("%(", StringComparison.Ordinal); k >= 0; k = value.IndexOf("%(", k + 2, StringComparison.Ordinal))
                    if (value.IndexOf(')', k) is var close and > 0) names.Add(value[(k + 2)..close]);
            return names;
        }

        public VmConfig Build()
        {
            var referenced = Referenced();
            string? kernel = null, initrd = null, name = null, cmdline = null;
            ulong memory = DefaultMemoryBytes;
            var pci = new SortedDictionary<int, List<(string Key, string Value, string Origin)>>();
            string? cpus = null, sockets = null, cores = null, threads = null;
            foreach (var (key, (raw, origin)) in _vars)
            {
                string value = Expand(raw, origin);
                switch (key)
                {
                    case "name": name = value; break;
                    case "kernel": kernel = value; break;
                    case "initrd": initrd = value; break;
                    case "cmdline": cmdline = value; break;
                    case "cpus": cpus = value; break;
                    case "sockets": sockets = value; break;
                    case "cores": cores = value; break;
                    case "threads": threads = value; break;
                    case "memory.size": memory = CheckMemory(value, origin.StartsWith("-m ", StringComparison.Ordinal) ? origin : $"{origin}={value}"); break;
                    case "lpc.com1.path":
                        if (value != "stdio") throw new ConfigException($"{origin}={InputFile.Escape(value)}: COM1 can only be wired to stdio");
                        break;
                    case "lpc.com2.path" or "lpc.com3.path" or "lpc.com4.path": throw new ConfigException($"{origin}: only COM1 is emulated");
                    case "lpc.bootrom" or "lpc.bootvars" or "bootrom" or "bootvars":
                        throw new ConfigException($"{origin}: there is no boot ROM; bhyve-aot loads the kernel itself (-b KERNEL or -o kernel=PATH)");
                    case "lpc.fwcfg": throw new ConfigException($"{origin}: fw_cfg is not supported (there is no firmware to read it)");
                    case "lpc.pc-testdev": if (Bool(value, origin)) throw new ConfigException($"{origin}: the PC debug/test device is not emulated (the debug-exit port 0x501 is always there)"); break;
                    case "x86.strictio": if (Bool(value, origin)) throw new ConfigException($"{origin}: exiting on unhandled I/O port accesses is not supported"); break;
                    case "gdb.port":
                        if (value != "0") throw new ConfigException($"{origin}: the gdb debug server is not supported");
                        break;
                    case "config.dump": if (Bool(value, origin)) throw new ConfigException($"{origin}: use `bhyve-aot config print` with the same options to see the configuration"); break;
                    // Booleans bhyve reads whose either value is harmless here (the manual's table says why).
                    case "acpi_tables" or "destroy_on_poweroff" or "memory.guest_in_core" or "memory.wired" or "rtc.use_localtime" or "virtio_msix"
                        or "x86.mptable" or "x86.vmexit_on_hlt" or "x86.vmexit_on_pause" or "x86.strictmsr" or "x86.x2apic" or "gdb.wait":
                        Bool(value, origin);
                        break;
                    case "uuid" or "keyboard.layout" or "gdb.address": break;
                    case var _ when key.StartsWith("bios.", StringComparison.Ordinal) || key.StartsWith("system.", StringComparison.Ordinal)
                        || key.StartsWith("board.", StringComparison.Ordinal) || key.StartsWith("chassis.", StringComparison.Ordinal):
                        break;   // SMBIOS strings: there are no SMBIOS tables to hold them
                    case var _ when key.StartsWith("pci.", StringComparison.Ordinal):
                        var (slot, setting) = PciKey(key, origin);
                        if (!pci.TryGetValue(slot, out var list)) pci[slot] = list = [];
                        list.Add((setting, value, origin));
                        break;
                    case var _ when referenced.Contains(key): break;   // a user variable, used by %(...) elsewhere
                    default:
                        throw new ConfigException(
                            $"{origin}: unknown configuration variable '{InputFile.Escape(key)}' (bhyve ignores unknown names; bhyve-aot refuses them so a typo is not lost)");
                }
            }
            int cpuCount = 1;
            if (cpus is not null || sockets is not null || cores is not null || threads is not null)
            {
                var parts = new List<string>();
                if (cpus is not null) parts.Add($"cpus={cpus}");
                if (sockets is not null) parts.Add($"sockets={sockets}");
                if (cores is not null) parts.Add($"cores={cores}");
                if (threads is not null) parts.Add($"threads={threads}");
                cpuCount = BhyveCpuOption.Parse(string.Join(',', parts));
            }
            var slots = new List<BhyveSlot>();
            foreach (int s in _slotTexts.Keys.Union(pci.Keys).Order())
                slots.Add(BuildSlot(s, _slotTexts.GetValueOrDefault(s), pci.GetValueOrDefault(s)));
            if (name is null) throw new ConfigException("no VM name (the bhyve form ends with the VM name, e.g. `bhyve-aot -b vmlinux myvm`)");
            if (kernel is null)
                throw new ConfigException("no kernel: bhyve-aot boots a kernel directly (-b KERNEL or -o kernel=PATH); there is no bhyveload or boot ROM");
            var config = new VmConfig
            {
                Name = name,
                KernelPath = kernel,
                InitrdPath = initrd,
                Cmdline = cmdline ?? "",
                Cpus = cpuCount,
                MemoryBytes = memory,
                HugePages = HugePages,
                CpuidHide = _cpuidHide.ToArray(),
                Devices = slots.Where(x => x.Device is not null).Select(x => x.Device!).ToArray(),
            };
            config.Validate();
            return config;
        }

        /// <summary>One slot from its `-s` text and the `pci.0.N.0.*` variables laid over it, read by BhyveSlot as one `-s`.</summary>
        private static BhyveSlot BuildSlot(int slot, string? slotText, List<(string Key, string Value, string Origin)>? settings)
        {
            if (settings is null) return BhyveSlot.Parse(slotText!);
            string? device = null, conf = null;
            if (slotText is not null)
            {
                string[] head = slotText.Split(',', 3);
                device = head.Length > 1 ? head[1] : null;
                conf = head.Length > 2 ? head[2] : null;
            }
            var parts = new List<string>();
            if (!string.IsNullOrEmpty(conf)) parts.Add(conf);
            foreach (var (key, value, origin) in settings)
            {
                if (key == "device") { device = value; continue; }
                if (value.Contains(','))
                    throw new ConfigException($"{origin}: a value with a comma cannot be given to a PCI device here");
                parts.Add($"{key}={value}");
            }
            if (device is null) throw new ConfigException($"pci.0.{slot}.0: no device set (pci.0.{slot}.0.device=virtio-blk, nvme, ...)");
            return BhyveSlot.Parse(parts.Count == 0 ? $"{slot},{device}" : $"{slot},{device},{string.Join(',', parts)}");
        }

        /// <summary>`pci.BUS.SLOT.FUNC.SETTING`; only bus 0 and function 0 exist here.</summary>
        private static (int Slot, string Setting) PciKey(string key, string origin)
        {
            string[] p = key.Split('.', 5);
            if (p.Length != 5 || !int.TryParse(p[1], out int bus) || !int.TryParse(p[2], out int slot) || !int.TryParse(p[3], out int function) || p[4].Length == 0)
                throw new ConfigException($"{origin}: expected pci.BUS.SLOT.FUNCTION.SETTING (e.g. pci.0.2.0.path)");
            if (bus != 0) throw new ConfigException($"{origin}: PCI bus {bus} does not exist (only bus 0)");
            if (slot is < 0 or > PciSlots.Last) throw new ConfigException($"{origin}: PCI slot {slot} is out of range (0..{PciSlots.Last})");
            if (function != 0) throw new ConfigException($"{origin}: PCI function {function} is not supported (one device per slot, function 0)");
            return (slot, p[4]);
        }

        /// <summary>bhyve_config(5) booleans: true/on/yes/1 and false/off/no/0, any case.</summary>
        private static bool Bool(string value, string origin) => value.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" or "1" => true,
            "false" or "off" or "no" or "0" => false,
            _ => throw new ConfigException($"{origin}={InputFile.Escape(value)}: expected true or false"),
        };
    }
}
