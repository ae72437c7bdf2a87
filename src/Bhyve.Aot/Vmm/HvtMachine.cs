using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Devices.Hvt;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// The Solo5 hvt machine, as solo5-hvt builds it: one vCPU in long mode, RAM from 0, no interrupt controllers,
/// no PCI, no UART. The console is the puts hypercall; block and network devices are attached by manifest name
/// (--block-device NAME=PATH, --net-device NAME=TAP); the unikernel's pages that are not writable are mapped
/// read-only; every port and MMIO access that is not a valid hypercall ends the run with status 1.
/// </summary>
public sealed class HvtMachine : Machine
{
    private readonly ElfImage _elf;
    private readonly byte[] _file;
    private HvtHypercalls? _hypercalls;
    private Dictionary<int, IHvtBlockBackend> _blocks = [];
    private Dictionary<int, IHvtNetBackend> _nets = [];
    private Stream? _consoleOut;

    internal HvtMachine(VmConfig config, ElfImage elf, byte[] file) : base(config)
    {
        _elf = elf;
        _file = file;
    }

    /// <summary>Hypercalls the guest made, by number (index 0 unused).</summary>
    public IReadOnlyList<long>? HvtHypercallCounts => _hypercalls?.Counts;

    public override IEnumerable<string> StatsLines()
    {
        if (_hypercalls?.Counts is not { } calls) yield break;
        var named = Enum.GetValues<HvtHypercall>().Select(h => $"{h.ToString().ToLowerInvariant()} {calls[(int)h]}");
        yield return $"hvt hypercalls: {string.Join(", ", named)}";
    }

    // solo5-hvt ends every abnormal exit (triple fault, KVM error, ...) with errx(1): so does an hvt run.
    private protected override VmExit MapVcpuExit(VmExit exit) => exit.Message is not null ? exit with { Code = ExitCodes.GuestFault } : exit;

    private protected override void Build(Stream consoleOut, Stream? consoleIn)
    {
        var config = Config;
        if (config.Cpus != 1) throw new ConfigException($"--cpus {config.Cpus}: a Solo5 hvt unikernel runs on one vCPU");
        if (HvtLayout.CheckRamSize(config.MemoryBytes) is { } ramProblem) throw new ConfigException($"--memory {ByteSize.Format(config.MemoryBytes)}: {ramProblem}");
        if (config.Cmdline.Length > 0) throw new ConfigException("--cmdline: a Solo5 hvt unikernel takes its arguments after --");
        if (config.Devices.Count > 0)
            throw new ConfigException($"{config.Devices[0].Kind.LongOption}: a Solo5 hvt unikernel has no PCI; attach block devices by manifest name with --block-device NAME=PATH");
        if (config.InitrdPath is not null) throw new ConfigException("--initrd: a Solo5 hvt unikernel takes no initial ramdisk");
        var image = HvtImage.Validate(_elf, _file, config.MemoryBytes);
        string cmdline = HvtLoader.JoinArguments(config.GuestArgs);
        (_blocks, _nets) = AttachHvtDevices(image.Manifest, config);
        _consoleOut = consoleOut;
        BuildAttached(image, _file, cmdline, _blocks, _nets, consoleOut);
    }

    private void BuildAttached(HvtImage image, byte[] file, string cmdline,
        Dictionary<int, IHvtBlockBackend> blocks, Dictionary<int, IHvtNetBackend> nets, Stream consoleOut)
    {
        ulong ram = Config.MemoryBytes;
        var kvm = Kvm = KvmHost.Open();
        var vm = Vm = kvm.CreateVm();
        vm.SetSystemPages();
        var memory = Memory = GuestMemory.Allocate(HvtLayout.RamRanges(ram), Config.HugePages);
        // Without read-only slots the guest's text stays writable: that only loses a protection, never a guest's work.
        var readOnly = kvm.CheckExtension(Interop.KvmCap.ReadonlyMem) > 0 ? image.ReadOnlyRanges : [];
        memory.MapInto(vm.MapMemory, readOnly);

        var vcpu = vm.CreateVcpu(0);
        KvmVcpus.Add(vcpu);
        vcpu.SetCpuid(CpuidPolicy.Apply(kvm.GetSupportedCpuid(), 0, 1));
        int tscKhz = vcpu.GetTscKhz();
        if (tscKhz <= 0) throw new KvmException("KVM_GET_TSC_KHZ (an hvt guest needs its TSC frequency)", -tscKhz);

        var info = new Dictionary<int, Solo5DeviceInfo>();
        foreach (var (handle, b) in blocks) info[handle] = Solo5DeviceInfo.Block(b.Capacity, b.BlockSize);
        foreach (var (handle, n) in nets) info[handle] = Solo5DeviceInfo.Net(n.Mac, n.Mtu);
        var boot = HvtLoader.Load(image, file, memory, ram, info, cmdline, (ulong)tscKhz * 1000);

        Action<string> fault = message => Stop(new VmExit(ExitCodes.GuestFault, $"hvt: {message}"));
        var hypercalls = _hypercalls = new HvtHypercalls(memory, readOnly, consoleOut, blocks, nets, status => Stop(new VmExit(status, null)), fault);
        Ports.Register(0, 0x1_0000, hypercalls);
        Mmio.Register(0, ulong.MaxValue, new HvtMemoryFault(readOnly, fault));
        HvtLoader.Apply(vcpu, boot);
        Vcpus.Add(vcpu);
    }

    private protected override IEnumerable<string> ShutdownDevices()
    {
        foreach (var b in _blocks.Values) b.Dispose();
        foreach (var n in _nets.Values) n.Dispose();
        _blocks = [];
        _nets = [];
        return [];
    }

    private protected override void CloseConsole() => _consoleOut?.Flush();

    /// <summary>
    /// Matches the command line's devices to the manifest by name, as solo5-hvt does: a name the manifest does not
    /// declare, or declares with another type, is refused; so is a declared device left unattached.
    /// </summary>
    private static (Dictionary<int, IHvtBlockBackend>, Dictionary<int, IHvtNetBackend>) AttachHvtDevices(Solo5Manifest manifest, VmConfig config)
    {
        int HandleOf(HvtDeviceConfig d, Solo5DeviceType type, string option)
        {
            foreach (var e in manifest.Devices)
            {
                if (e.Name != d.Name) continue;
                if (e.Type != type)
                    throw new ConfigException($"{option} {d.Name}: the manifest declares '{d.Name}' as {Solo5Manifest.TypeName(e.Type)}, not {Solo5Manifest.TypeName(type)}");
                return e.Handle;
            }
            throw new ConfigException($"{option} {d.Name}: resource not declared in manifest: '{d.Name}'");
        }

        int[] blockHandles = config.HvtBlocks.Select(d => HandleOf(d, Solo5DeviceType.BlockBasic, "--block-device")).ToArray();
        int[] netHandles = config.HvtNets.Select(d => HandleOf(d, Solo5DeviceType.NetBasic, "--net-device")).ToArray();
        var missing = manifest.Devices.Where(e => !blockHandles.Contains(e.Handle) && !netHandles.Contains(e.Handle)).ToArray();
        if (missing.Length > 0)
        {
            string list = string.Join(", ", missing.Select(e => $"'{e.Name}' of type {Solo5Manifest.TypeName(e.Type)}"));
            string how = string.Join(" ", missing.Select(e => e.Type == Solo5DeviceType.BlockBasic ? $"--block-device {e.Name}=PATH" : $"--net-device {e.Name}=TAP"));
            throw new ConfigException($"device {list} declared but not attached: all declared devices must be attached ({how})");
        }

        var blocks = new Dictionary<int, IHvtBlockBackend>();
        var nets = new Dictionary<int, IHvtNetBackend>();
        try
        {
            for (int i = 0; i < blockHandles.Length; i++)
            {
                var d = config.HvtBlocks[i];
                try { blocks[blockHandles[i]] = HvtBlockFile.Open(d.Name, d.Target); }
                catch (BlockFileException e) { throw new ConfigException($"--block-device {d.Name}={d.Target}: {e.Message}"); }
            }
            for (int i = 0; i < netHandles.Length; i++)
            {
                var d = config.HvtNets[i];
                try { nets[netHandles[i]] = HvtTap.Open(d.Target); }
                catch (IOException e) { throw new ConfigException($"--net-device {d.Name}={d.Target}: {e.Message}"); }
            }
        }
        catch
        {
            foreach (var b in blocks.Values) b.Dispose();
            foreach (var n in nets.Values) n.Dispose();
            throw;
        }
        return (blocks, nets);
    }
}
