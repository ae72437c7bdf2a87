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
public sealed partial class Machine
{
    private bool _hvt;
    private HvtHypercalls? _hypercalls;

    /// <summary>Hypercalls an hvt guest made, by number (index 0 unused); null unless the guest was a Solo5 hvt unikernel.</summary>
    public IReadOnlyList<long>? HvtHypercallCounts => _hypercalls?.Counts;

    private VmExit RunHvt(ElfImage elf, byte[] file, Stream consoleOut)
    {
        _hvt = true;
        var config = _config;
        if (config.Cpus != 1) throw new ConfigException($"--cpus {config.Cpus}: a Solo5 hvt unikernel runs on one vCPU");
        if (HvtLayout.CheckRamSize(config.MemoryBytes) is { } ramProblem) throw new ConfigException($"--memory {ByteSize.Format(config.MemoryBytes)}: {ramProblem}");
        if (config.Cmdline.Length > 0) throw new ConfigException("--cmdline: a Solo5 hvt unikernel takes its arguments after --");
        if (config.Disks.Count > 0 || config.Nvme.Count > 0)
            throw new ConfigException($"{(config.Disks.Count > 0 ? "--disk" : "--nvme")}: a Solo5 hvt unikernel has no PCI; attach block devices by manifest name with --block-device NAME=PATH");
        if (config.InitrdPath is not null) throw new ConfigException("--initrd: a Solo5 hvt unikernel takes no initial ramdisk");
        var image = HvtImage.Validate(elf, file, config.MemoryBytes);
        string cmdline = HvtLoader.JoinArguments(config.GuestArgs);
        var (blocks, nets) = AttachHvtDevices(image.Manifest, config);
        try
        {
            return RunHvtAttached(image, file, cmdline, blocks, nets, consoleOut);
        }
        finally
        {
            foreach (var b in blocks.Values) b.Dispose();
            foreach (var n in nets.Values) n.Dispose();
        }
    }

    private VmExit RunHvtAttached(HvtImage image, byte[] file, string cmdline,
        Dictionary<int, IHvtBlockBackend> blocks, Dictionary<int, IHvtNetBackend> nets, Stream consoleOut)
    {
        ulong ram = _config.MemoryBytes;
        _kvm = KvmHost.Open();
        _vm = _kvm.CreateVm();
        _vm.SetSystemPages();
        _memory = GuestMemory.Allocate(HvtLayout.RamRanges(ram), _config.HugePages);
        // Without read-only slots the guest's text stays writable: that only loses a protection, never a guest's work.
        var readOnly = _kvm.CheckExtension(Interop.KvmCap.ReadonlyMem) > 0 ? image.ReadOnlyRanges : [];
        _memory.MapInto(_vm.MapMemory, readOnly);

        var vcpu = _vm.CreateVcpu(0);
        vcpu.SetCpuid(CpuidPolicy.Apply(_kvm.GetSupportedCpuid(), 0, 1));
        int tscKhz = vcpu.GetTscKhz();
        if (tscKhz <= 0) throw new KvmException("KVM_GET_TSC_KHZ (an hvt guest needs its TSC frequency)", -tscKhz);
        _vcpus.Add(vcpu);

        var info = new Dictionary<int, Solo5DeviceInfo>();
        foreach (var (handle, b) in blocks) info[handle] = Solo5DeviceInfo.Block(b.Capacity, b.BlockSize);
        foreach (var (handle, n) in nets) info[handle] = Solo5DeviceInfo.Net(n.Mac, n.Mtu);
        var boot = HvtLoader.Load(image, file, _memory, ram, info, cmdline, (ulong)tscKhz * 1000);

        Action<string> fault = message => Stop(new VmExit(ExitCodes.GuestFault, $"hvt: {message}"));
        var hypercalls = _hypercalls = new HvtHypercalls(_memory, readOnly, consoleOut, blocks, nets, status => Stop(new VmExit(status, null)), fault);
        Ports.Register(0, 0x1_0000, hypercalls);
        Mmio.Register(0, ulong.MaxValue, new HvtMemoryFault(readOnly, fault));
        HvtLoader.Apply(vcpu, boot);

        var loop = new VcpuLoop(vcpu, Ports, Mmio, this);
        _loops.Add(loop);
        Running?.Invoke();
        new Thread(() => RunVcpu(loop)) { IsBackground = true, Name = "vcpu" }.Start();
        var result = _exit.Task.GetAwaiter().GetResult();
        consoleOut.Flush();
        return result;
    }

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
