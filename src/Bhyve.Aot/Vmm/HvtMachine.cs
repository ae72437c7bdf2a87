using System.Buffers.Binary;
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

    internal HvtMachine(VmConfig config, ElfImage elf, byte[] file, bool hvtLimits = false) : base(config, hvtLimits)
    {
        _elf = elf;
        _file = file;
    }

    /// <summary>
    /// A machine for a Solo5 hvt unikernel only (the solo5-hvt front end), from the image the front end already
    /// read and parsed (no second read, no kind detection: start-up is most of a tiny unikernel's run). Its RAM
    /// limits are hvt's own, 2 MiB to 4 GiB (HvtLayout), not the PC machine's. The caller has checked the image.
    /// </summary>
    public static HvtMachine ForSolo5Hvt(VmConfig config, ElfImage elf, byte[] file) => new(config, elf, file, hvtLimits: true);

    /// <summary>solo5-hvt's --dumpcore=DIR: where a guest that aborts (status 255) leaves its core file; null for none.</summary>
    public string? HvtCoreDumpDirectory { get; set; }

    /// <summary>Where the hvt machine's notices go (the dumpcore lines solo5-hvt prints with warnx); null to drop them.</summary>
    public Action<string>? HvtNotice { get; set; }

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
        HvtHypercalls? hypercalls = null;
        void Halt(int status)
        {
            // As solo5-hvt's dumpcore halt hook: only an abort leaves a core, written before the VM is torn down.
            if (status == 255 && HvtCoreDumpDirectory is { } dir) DumpCore(dir, vcpu, hypercalls!.HaltCookie);
            Stop(new VmExit(status, null));
        }
        hypercalls = _hypercalls = new HvtHypercalls(memory, readOnly, consoleOut, blocks, nets, Halt, fault);
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
                try { blocks[blockHandles[i]] = HvtBlockFile.Open(d.Name, d.Target, d.BlockSize == 0 ? HvtBlockFile.DefaultBlockSize : d.BlockSize); }
                catch (BlockFileException e) { throw new ConfigException($"--block-device {d.Name}={d.Target}: {e.Message}"); }
            }
            for (int i = 0; i < netHandles.Length; i++)
            {
                var d = config.HvtNets[i];
                try { nets[netHandles[i]] = HvtTap.Open(d.Target, d.Mac); }
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

    /// <summary>
    /// Writes the guest's core file as solo5-hvt's dumpcore hook does, on the vCPU thread that took the halt: registers
    /// from KVM, RIP/CS/RFLAGS/RSP/SS from the guest's trap frame when its halt cookie points at one. A failure is a
    /// notice, never the run's outcome (solo5-hvt: "error(s) dumping core, file may be incomplete").
    /// </summary>
    private void DumpCore(string directory, Vcpu vcpu, ulong cookie)
    {
        try
        {
            var r = vcpu.GetRegs();
            var sr = vcpu.GetSregs();
            Span<ulong> regs = stackalloc ulong[HvtCoreFile.RegisterCount];
            regs[(int)CoreRegister.R15] = r.R15; regs[(int)CoreRegister.R14] = r.R14; regs[(int)CoreRegister.R13] = r.R13;
            regs[(int)CoreRegister.R12] = r.R12; regs[(int)CoreRegister.Rbp] = r.Rbp; regs[(int)CoreRegister.Rbx] = r.Rbx;
            regs[(int)CoreRegister.R11] = r.R11; regs[(int)CoreRegister.R10] = r.R10; regs[(int)CoreRegister.R9] = r.R9;
            regs[(int)CoreRegister.R8] = r.R8; regs[(int)CoreRegister.Rax] = r.Rax; regs[(int)CoreRegister.Rcx] = r.Rcx;
            regs[(int)CoreRegister.Rdx] = r.Rdx; regs[(int)CoreRegister.Rsi] = r.Rsi; regs[(int)CoreRegister.Rdi] = r.Rdi;
            regs[(int)CoreRegister.Rip] = r.Rip; regs[(int)CoreRegister.Eflags] = r.Rflags; regs[(int)CoreRegister.Rsp] = r.Rsp;
            regs[(int)CoreRegister.Cs] = sr.Cs.Selector; regs[(int)CoreRegister.Ss] = sr.Ss.Selector;
            regs[(int)CoreRegister.Ds] = sr.Ds.Selector; regs[(int)CoreRegister.Es] = sr.Es.Selector;
            regs[(int)CoreRegister.Fs] = sr.Fs.Selector; regs[(int)CoreRegister.Gs] = sr.Gs.Selector;
            regs[(int)CoreRegister.FsBase] = sr.Fs.Base; regs[(int)CoreRegister.GsBase] = sr.Gs.Base;
            // struct x86_trap_regs { cr2, ec, rip, cs, rflags, rsp, ss }: the halt hypercall checked 512 bytes readable.
            if (cookie != 0 && Memory!.TryGetSpan(cookie, 7 * 8, out var frame))
            {
                regs[(int)CoreRegister.Rip] = BinaryPrimitives.ReadUInt64LittleEndian(frame[16..]);
                regs[(int)CoreRegister.Cs] = BinaryPrimitives.ReadUInt64LittleEndian(frame[24..]);
                regs[(int)CoreRegister.Eflags] = BinaryPrimitives.ReadUInt64LittleEndian(frame[32..]);
                regs[(int)CoreRegister.Rsp] = BinaryPrimitives.ReadUInt64LittleEndian(frame[40..]);
                regs[(int)CoreRegister.Ss] = BinaryPrimitives.ReadUInt64LittleEndian(frame[48..]);
            }
            string path = Path.Combine(directory, HvtCoreFile.FileName(Environment.ProcessId));
            HvtNotice?.Invoke($"dumpcore: dumping guest core to: {path}");
            var (_, dumped, pages) = HvtCoreFile.Write(directory, Environment.ProcessId, Memory!, regs);
            HvtNotice?.Invoke($"dumpcore: dumped {dumped} pages of total {pages} pages");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KvmException)
        {
            HvtNotice?.Invoke($"dumpcore: {e.Message}");
            HvtNotice?.Invoke("dumpcore: error(s) dumping core, file may be incomplete");
        }
    }
}
