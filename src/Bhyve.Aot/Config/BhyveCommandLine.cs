using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>What a bhyve-style command line asks for: the machine, and the run-time switches that are not part of it.</summary>
public sealed record BhyveInvocation(VmConfig Config, bool Stats);

/// <summary>
/// bhyve's command line, read as bhyve's getopt reads it: single-letter options that may be grouped (`-AHP`), an
/// option's value either attached (`-c2`) or the next word, options first and the VM name last. bhyve-aot loads the
/// kernel itself, so `-k`, `-i` and `-C` give the kernel, initrd and command line (where bhyve uses bhyveload or a
/// boot ROM). Three long options from `run` are also read: `--stats`, `--huge-pages` and `--cpuid-hide LIST`.
/// </summary>
public static class BhyveCommandLine
{
    /// <summary>Letters that take a value.</summary>
    private const string WithValue = "cmslkiC";

    /// <summary>bhyve switches that change nothing here, accepted so that bhyve command lines work unchanged.</summary>
    public const string Ignored = "AHPuwDY";

    /// <summary>Returns null when help was asked for (-h); throws ConfigException with one sentence for anything wrong.</summary>
    public static BhyveInvocation? Parse(IReadOnlyList<string> args)
    {
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
                    case var _ when a.StartsWith("--cpuid-hide=", StringComparison.Ordinal): state.HideCpuid(a["--cpuid-hide=".Length..]); break;
                    case "--cpuid-hide":
                        if (++i >= args.Count) throw new ConfigException("--cpuid-hide needs a value (e.g. xsave,avx)");
                        state.HideCpuid(args[i]);
                        break;
                    case "--help": return null;
                    default:
                        throw new ConfigException($"unknown option {a} (the bhyve form takes single-letter options, --stats, --huge-pages and --cpuid-hide; see bhyve-aot --help)");
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
                    state.Apply(letter, value);
                    break;
                }
                if (letter == 'h') return null;
                if (!Ignored.Contains(letter)) throw Refuse(letter);
            }
        }
        var operands = args.Skip(i).ToArray();
        if (operands.Length == 0) throw new ConfigException("no VM name (the bhyve form ends with the VM name, e.g. `bhyve-aot -k vmlinux myvm`)");
        if (operands.Length > 1)
            throw new ConfigException($"unexpected '{operands[1]}' after the VM name '{operands[0]}' (options go before the name)");
        return new BhyveInvocation(state.Build(operands[0]), state.Stats);
    }

    /// <summary>Every bhyve option bhyve-aot does not take, with the reason where there is a short one.</summary>
    private static ConfigException Refuse(char letter) => new(letter switch
    {
        'a' => "-a: xAPIC mode is not selectable (KVM's in-kernel LAPIC is used)",
        'x' => "-x: x2APIC mode is not selectable (KVM's in-kernel LAPIC is used)",
        'e' => "-e: exiting on unhandled I/O port accesses is not supported (they read as all ones)",
        'S' => "-S: wiring guest memory is not supported",
        'W' => "-W: MSI-X is the only interrupt scheme; the option is not needed",
        'p' => "-p: pinning vCPUs to host CPUs is not supported (use taskset)",
        'G' => "-G: the gdb stub is not supported",
        'U' => "-U: there are no SMBIOS tables to hold a UUID",
        'o' => "-o: bhyve configuration variables are not supported; use a machine file (bhyve-aot run --config FILE)",
        'f' => "-f: fw_cfg is not supported",
        'K' => "-K: there is no keyboard",
        'r' => "-r: restoring a saved VM is not supported",
        _ => $"-{letter}: unknown option (see bhyve-aot --help)",
    });

    private sealed class State
    {
        private readonly List<BhyveSlot> _slots = [];
        private string? _kernel;
        private string? _initrd;
        private string _cmdline = "";
        private int _cpus = 1;
        private ulong _memory = VmConfig.DefaultMemoryBytes;
        private readonly List<CpuidFeature> _cpuidHide = [];
        public bool Stats;
        public bool HugePages;

        /// <summary>`--cpuid-hide LIST`, repeatable as with `run`.</summary>
        public void HideCpuid(string list)
        {
            var features = CpuidFeature.ParseList(list, out string? error);
            if (error is not null) throw new ConfigException($"--cpuid-hide: {error}");
            foreach (var f in features) if (!_cpuidHide.Contains(f)) _cpuidHide.Add(f);
        }

        public void Apply(char letter, string value)
        {
            switch (letter)
            {
                case 'c': _cpus = BhyveCpuOption.Parse(value); break;
                case 'm':
                    if (!BhyveSize.TryParse(value, out _memory)) throw new ConfigException($"-m {value}: not a size (e.g. 512M, 2G, or 512 for MiB)");
                    if (GuestLayout.CheckRamSize(_memory) is { } problem) throw new ConfigException($"-m {value}: {problem}");
                    break;
                case 's': AddSlot(BhyveSlot.Parse(value)); break;
                case 'l': CheckConsole(value); break;
                case 'k': _kernel = value; break;
                case 'i': _initrd = value; break;
                case 'C': _cmdline = value; break;
            }
        }

        private void AddSlot(BhyveSlot slot)
        {
            if (_slots.FirstOrDefault(s => s.Slot == slot.Slot) is { } taken)
                throw new ConfigException(slot.Emulation == BhyveEmulation.HostBridge && taken.Emulation == BhyveEmulation.HostBridge
                    ? "-s 0,hostbridge is given twice"
                    : $"-s {slot.Slot}: PCI slot {slot.Slot} is already taken by {Describe(taken)}");
            _slots.Add(slot);
        }

        private static string Describe(BhyveSlot s) => s.Emulation switch
        {
            BhyveEmulation.HostBridge => "the host bridge",
            BhyveEmulation.Lpc => "lpc",
            _ => s.Device!.Kind.Name + s.Device.Who[s.Device.Who.IndexOf(' ')..],
        };

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
                "bootrom" => $"-l {value}: there is no boot ROM; bhyve-aot loads the kernel itself (-k KERNEL)",
                _ => $"-l {value}: not supported (the only LPC device is COM1: -l com1,stdio)",
            });
        }

        public VmConfig Build(string name)
        {
            if (_kernel is null) throw new ConfigException("no kernel: bhyve-aot boots a kernel directly (-k KERNEL); there is no bhyveload or boot ROM");
            var ordered = _slots.OrderBy(s => s.Slot).ToArray();
            var config = new VmConfig
            {
                Name = name,
                KernelPath = _kernel,
                InitrdPath = _initrd,
                Cmdline = _cmdline,
                Cpus = _cpus,
                MemoryBytes = _memory,
                HugePages = HugePages,
                CpuidHide = _cpuidHide.ToArray(),
                Devices = ordered.Where(s => s.Device is not null).Select(s => s.Device!).ToArray(),
            };
            config.Validate();
            return config;
        }
    }
}
