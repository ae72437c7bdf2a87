using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Acpi;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// One VM from configuration to exit status: creates the KVM VM and guest RAM, loads the kernel as
/// firmware would, wires the devices to the buses, runs one thread per vCPU and reports how it ended.
/// </summary>
public sealed partial class Machine : IVmLifecycle
{
    private readonly VmConfig _config;
    private readonly TaskCompletionSource<VmExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private KvmHost? _kvm;
    private Vm? _vm;
    private GuestMemory? _memory;
    private readonly List<Vcpu> _vcpus = [];
    private readonly List<VcpuLoop> _loops = [];
    private readonly List<VirtioBlk> _disks = [];
    private readonly List<NvmeController> _nvme = [];
    private readonly List<BlockFile> _backends = [];
    private TerminalRawMode? _rawTerminal;
    private SerialConsole? _console;

    public Machine(VmConfig config)
    {
        config.Validate();
        _config = config;
    }

    public IoBus Ports { get; } = new("port");
    public IoBus Mmio { get; } = new("MMIO");

    bool IVmLifecycle.Stopping => _stopping;
    VmExit IVmLifecycle.Result => _exit.Task.IsCompleted ? _exit.Task.Result : new VmExit(ExitCodes.VmmFailure, "stopped without a result");

    /// <summary>Exits taken to user space by all vCPUs, summed.</summary>
    public ExitCounters Exits
    {
        get
        {
            var sum = new ExitCounters();
            foreach (var l in _loops)
            {
                sum.Io += l.Counters.Io;
                sum.Mmio += l.Counters.Mmio;
                sum.Interrupted += l.Counters.Interrupted;
                sum.Other += l.Counters.Other;
            }
            return sum;
        }
    }

    /// <summary>
    /// Ends the run with this result; the first caller wins. Every vCPU is asked to leave KVM_RUN at its next
    /// entry (immediate_exit); one halted inside KVM_RUN stays there, which is harmless: Run returns the result
    /// at once and the process exits, and exit_group tears the VM down with its threads (they are background threads).
    /// </summary>
    public void Stop(VmExit result)
    {
        if (!_exit.TrySetResult(result)) return;
        _stopping = true;
        lock (_vcpus)
            foreach (var v in _vcpus) v.RequestImmediateExit();
    }

    /// <summary>Raised once everything is built and loaded, just before the vCPUs start (the API's InstanceStart answers then).</summary>
    public event Action? Running;

    /// <summary>Boots the guest and blocks until it ends. Image and configuration errors throw before any vCPU runs.</summary>
    public VmExit Run(Stream consoleOut, Stream? consoleIn)
    {
        byte[] image = ReadKernel(_config.KernelPath);
        // Recognise the image before touching KVM so a bad one is reported as such even on a host without KVM.
        var kind = KernelKinds.Detect(image);
        if (kind == KernelKind.Solo5Hvt) return RunHvt(ElfImage.Parse(image), image, consoleOut);
        RefuseHvtOptions(_config, kind);
        if (kind == KernelKind.BzImage) BzImage.Parse(image);
        byte[] initrd = _config.InitrdPath is { } initrdPath ? ReadInitrd(initrdPath) : [];

        _kvm = KvmHost.Open();
        _vm = _kvm.CreateVm();
        _vm.CreatePlatform();
        _memory = GuestMemory.Allocate(GuestLayout.RamRanges(_config.MemoryBytes), _config.HugePages);
        _memory.MapInto(_vm.MapMemory);

        var acpi = AcpiBuilder.Write(_memory, _config.Cpus);
        var boot = KernelLoader.Load(kind, image, _memory, GuestLayout.MemoryMap(_config.MemoryBytes), _config.Cmdline, initrd, acpi.Rsdp);
        if (boot.Mode == EntryMode.Pvh32) BootCpuState.WriteGdt(_memory);
        else BootCpuState.WriteLinux64Tables(_memory);

        var console = _console = new SerialConsole(consoleOut, prefix: "bhyve-aot: " + _config.MessagePrefix);
        var uart = new Uart8250(console.GuestOutput, new KvmIrqLine(_vm, Uart8250.Com1Irq));
        Ports.Register(Uart8250.Com1Port, Uart8250.PortCount, uart);
        Ports.Register(DebugExit.DefaultPort, 1, new DebugExit(status => Stop(new VmExit(status, null))));
        Ports.Register(AcpiPorts.Base, AcpiPorts.PortCount, new AcpiPorts(r => Stop(r == AcpiRequest.PowerOff
            ? new VmExit(ExitCodes.PoweredOff, null)
            : new VmExit(ExitCodes.Reset, "guest requested a reset (ACPI reset register)"))));
        Ports.Register(KeyboardControllerReset.CommandPort, 1,
            new KeyboardControllerReset(() => Stop(new VmExit(ExitCodes.Reset, "guest requested a reset (keyboard controller)"))));
        // A terminal on stdin goes raw for the run (keys reach the guest as typed; "~." quits); pipes stay as they are.
        if (consoleIn is not null && !Console.IsInputRedirected) _rawTerminal = TerminalRawMode.TryEnter();
        if (consoleIn is not null)
            console.StartInput(consoleIn, uart, _rawTerminal is null ? null : new ConsoleEscape(),
                () => Stop(new VmExit(ExitCodes.ConsoleQuit, "quit from the console (~.)")));
        AttachPci(_vm, _memory);

        var supported = _kvm.GetSupportedCpuid();
        for (int i = 0; i < _config.Cpus; i++)
        {
            var vcpu = _vm.CreateVcpu(i);
            vcpu.SetCpuid(CpuidPolicy.Apply(supported, i, _config.Cpus, _config.CpuidHide));
            lock (_vcpus) _vcpus.Add(vcpu);
            _loops.Add(new VcpuLoop(vcpu, Ports, Mmio, this));
        }
        // Only the boot CPU starts at the kernel entry; the others wait in the in-kernel LAPIC for INIT/SIPI.
        if (boot.Mode == EntryMode.Pvh32) BootCpuState.Apply(_vcpus[0], (uint)boot.Entry, boot.BootData);
        else BootCpuState.ApplyLinux64(_vcpus[0], boot.Entry, boot.BootData);

        Running?.Invoke();
        foreach (var loop in _loops)
        {
            var thread = new Thread(() => RunVcpu(loop)) { IsBackground = true, Name = "vcpu" };
            thread.Start();
        }

        var result = _exit.Task.GetAwaiter().GetResult();
        uart.CloseOutput();
        console.Close();
        _rawTerminal?.Dispose();
        return result;
    }

    /// <summary>The serial console (COM1) of a PC-style run; null for an hvt run or before Run.</summary>
    public SerialConsole? SerialConsole => _console;

    /// <summary>One line per disk (virtio-blk or NVMe) on which a flush failed during the run: printed at exit.</summary>
    public IEnumerable<string> FlushFailures
    {
        get
        {
            foreach (var f in _backends)
                if (f.FlushFailureReport() is { } line) yield return line;
        }
    }

    /// <summary>Requests, doorbells and interrupts of every virtio-blk queue, summed.</summary>
    public VirtioQueueCounters DiskCounters
    {
        get
        {
            var sum = new VirtioQueueCounters();
            foreach (var d in _disks) sum.Add(d.Counters);
            return sum;
        }
    }

    /// <summary>Commands, doorbells (MMIO and ioeventfd) and interrupts of every NVMe controller, summed.</summary>
    public NvmeCounters NvmeCounters
    {
        get
        {
            var sum = new NvmeCounters();
            foreach (var c in _nvme) sum.Add(c.Counters);
            return sum;
        }
    }

    /// <summary>The PCI root bus (host bridge, CF8/CFC and ECAM), one virtio-blk function per disk and one NVMe controller per --nvme, each in its slot.</summary>
    private void AttachPci(Vm vm, GuestMemory memory)
    {
        var slots = PciSlots.Assign(_config);
        var root = new PciRoot(Mmio);
        root.Attach(PciSlots.HostBridge, new PciHostBridge());
        Ports.Register(PciConfigPorts.BasePort, PciConfigPorts.PortCount, new PciConfigPorts(root));
        Mmio.Register(PciEcam.Base, PciEcam.Size, new PciEcam(root));
        var routing = new KvmInterruptRouting(vm);
        var doorbells = new KvmDoorbellBinder(vm);
        for (int i = 0; i < _config.Disks.Count; i++)
        {
            var disk = _config.Disks[i];
            var file = OpenDisk(disk);
            _backends.Add(file);
            var options = BlockEngineOptions.Default with { QueueDepth = disk.QueueSize };
            var model = new VirtioBlkDisk(
                CapacitySectors: file.Size / 512,
                BlockSize: file.LogicalBlockSize,
                ReadOnly: disk.ReadOnly,
                Discard: disk.Discard == DiscardMode.Unmap && file.CanDiscard,
                WriteZeroes: file.CanWriteZeroes,
                WriteZeroesMayUnmap: disk.Discard == DiscardMode.Unmap && file.CanDiscard,
                Serial: disk.Serial);
            var blk = new VirtioBlk(model, disk.Queues, (ushort)disk.QueueSize, options.MaxSegments, () => BlockEngineFactory.Create(file, options), file);
            _disks.Add(blk);
            root.Attach(slots.Disks[i], new VirtioPciTransport(blk, memory, routing.CreateMsiSink(disk.Queues + 1), doorbells));
        }
        for (int i = 0; i < _config.Nvme.Count; i++)
        {
            var controller = CreateNvme(_config.Nvme[i], i, memory, routing, doorbells, _backends);
            _nvme.Add(controller);
            root.Attach(slots.Nvme[i], controller);
        }
    }

    private static NvmeController CreateNvme(NvmeConfig config, int index, GuestMemory memory, KvmInterruptRouting routing, KvmDoorbellBinder doorbells,
                                             List<BlockFile> backends)
    {
        var file = OpenNvmeBackend(config);
        backends.Add(file);
        int shift = config.SectorSize == 4096 ? 12 : 9;
        string what = $"--nvme {config.Describe()}";
        if (file.Direct && (uint)config.SectorSize < file.LogicalBlockSize)
            throw new ConfigException($"{what}: sector-size={config.SectorSize} is smaller than the O_DIRECT block size {file.LogicalBlockSize}");
        if (file.Size >> shift == 0) throw new ConfigException($"{what}: smaller than one {config.SectorSize}-byte sector");
        // Deallocate: auto offers it only where punching holes (files) or zero-out with unmap (devices) works.
        bool dsm = !config.ReadOnly && config.Dsm switch { DsmMode.Enable => true, DsmMode.Disable => false, _ => file.CanDiscard };
        string serial = config.Serial.Length > 0 ? config.Serial : $"BHYVEAOT{index:D4}";
        var ns = new NvmeNamespace(file.Size >> shift, shift, config.ReadOnly, dsm, DeallocateWorks: dsm && file.CanDiscard,
                                   WriteZeroes: !config.ReadOnly && file.CanWriteZeroes, serial);
        var identity = new NvmeIdentity(NvmeController.Vendor, NvmeController.Vendor, serial, NvmeIdentity.DefaultModel,
                                        NvmeIdentity.DefaultFirmware, NvmeIdentity.DefaultMdts, ControllerId: (ushort)(index + 1));
        // One engine per enable, shared by all queues of the controller: deep enough for a full queue and a
        // 256-range Dataset Management command.
        var options = BlockEngineOptions.Default with
        {
            QueueDepth = Math.Max(257, Math.Min(config.QueueSize, 1024)),
            MaxSegments = NvmeQueueProcessor.MaxSegments,
        };
        return new NvmeController(ns, identity, config.Queues, config.QueueSize, memory, routing.CreateMsiSink(config.Queues + 1), doorbells,
                                  () => BlockEngineFactory.Create(file, options), file);
    }

    private static BlockFile OpenNvmeBackend(NvmeConfig config)
    {
        try
        {
            if (config.Path is null) return BlockFile.CreateInMemory("bhyve-aot-nvme", config.RamBytes);
            var file = config.Create ? BlockFile.Create(config.Path, config.CreateSize, config.Direct) : BlockFile.Open(config.Path, config.ReadOnly, config.Direct);
            return file.Lock();
        }
        catch (BlockFileException e) { throw new ConfigException($"--nvme {config.Describe()}: {e.Message}"); }
    }

    /// <summary>The Solo5 options mean nothing to other kernels: refused rather than ignored.</summary>
    private static void RefuseHvtOptions(VmConfig config, KernelKind kind)
    {
        string what = $"{config.KernelPath} is {KernelKinds.Describe(kind)}, not a Solo5 hvt unikernel";
        if (config.HvtBlocks.Count > 0) throw new ConfigException($"--block-device is for Solo5 hvt unikernels; {what} (use --disk)");
        if (config.HvtNets.Count > 0) throw new ConfigException($"--net-device is for Solo5 hvt unikernels; {what}");
        if (config.GuestArgs.Count > 0) throw new ConfigException($"arguments after -- are for Solo5 hvt unikernels; {what} (use --cmdline)");
    }

    private static BlockFile OpenDisk(DiskConfig disk)
    {
        try
        {
            var file = disk.Create ? BlockFile.Create(disk.Path, disk.CreateSize, disk.Direct) : BlockFile.Open(disk.Path, disk.ReadOnly, disk.Direct);
            return disk.Lock ? file.Lock() : file;
        }
        catch (BlockFileException e) { throw new ConfigException($"--disk {disk.Path}: {e.Message}"); }
    }

    private void RunVcpu(VcpuLoop loop)
    {
        try
        {
            var exit = loop.Run();
            // solo5-hvt ends every abnormal exit (triple fault, KVM error, ...) with errx(1): so does an hvt run.
            Stop(_hvt && exit.Message is not null ? exit with { Code = ExitCodes.GuestFault } : exit);
        }
        catch (Exception e)
        {
            Stop(new VmExit(ExitCodes.VmmFailure, $"vCPU thread failed: {e.GetType().Name}: {e.Message}"));
        }
    }

    private static byte[] ReadInitrd(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ConfigException($"--initrd {path}: no such file");
            if (info.Length == 0) throw new ConfigException($"--initrd {path}: the file is empty");
            if (info.Length > 1L << 30) throw new ConfigException($"--initrd {path}: {info.Length >> 20} MiB is too large (at most 1024 MiB)");
            return File.ReadAllBytes(path);
        }
        catch (IOException e) { throw new ConfigException($"--initrd {path}: {e.Message}"); }
        catch (UnauthorizedAccessException) { throw new ConfigException($"--initrd {path}: permission denied"); }
    }

    private static byte[] ReadKernel(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ConfigException($"kernel image {path}: no such file");
            if (info.Length > 512L << 20) throw new ConfigException($"kernel image {path}: {info.Length >> 20} MiB is too large");
            return File.ReadAllBytes(path);
        }
        catch (IOException e) { throw new ConfigException($"kernel image {path}: {e.Message}"); }
        catch (UnauthorizedAccessException) { throw new ConfigException($"kernel image {path}: permission denied"); }
    }
}
