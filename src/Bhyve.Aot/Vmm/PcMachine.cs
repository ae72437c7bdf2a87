using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Acpi;
using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// A PC-style machine for Linux and PVH kernels: KVM's in-kernel PIC, IOAPIC, LAPICs and PIT; COM1, debug-exit,
/// the hardware-reduced ACPI registers, the ACPI power button (a Generic Event Device), the i8042 reset line; a PCI
/// root with one function per configured device, each built by its <see cref="IDeviceKind"/>; ACPI tables written
/// from a description of exactly that.
/// </summary>
public sealed class PcMachine : Machine
{
    private readonly byte[] _image;
    private readonly KernelKind _kind;
    private readonly List<IMachineDevice> _devices = [];
    private SerialConsole? _console;
    private Uart8250? _uart;
    private TerminalRawMode? _rawTerminal;
    private AcpiGenericEventDevice? _ged;
    private bool _devicesStopped;

    internal PcMachine(VmConfig config, byte[] image, KernelKind kind) : base(config)
    {
        _image = image;
        _kind = kind;
        RefuseHvtOptions(config, kind);
    }

    /// <summary>The devices built from the configuration, in <see cref="VmConfig.Devices"/> order.</summary>
    public IReadOnlyList<IMachineDevice> Devices => _devices;

    public override SerialConsole? SerialConsole => _console;

    /// <summary>Power-button presses the guest was given.</summary>
    public long PowerButtonPresses => _ged?.Presses ?? 0;

    public override IEnumerable<string> StatsLines()
    {
        foreach (var kind in DeviceKinds.All)
            if (kind.Stats(_devices) is { } line) yield return line;
        if (_console is { } serial) yield return $"console: {serial.WrittenBytes} bytes written, {serial.DroppedBytes} dropped";
    }

    private protected override void Build(Stream consoleOut, Stream? consoleIn)
    {
        if (_kind == KernelKind.BzImage) BzImage.Parse(_image);
        byte[] initrd = Config.InitrdPath is { } initrdPath ? ReadInitrd(initrdPath) : [];

        Kvm = KvmHost.Open();
        var vm = Vm = Kvm.CreateVm();
        vm.CreatePlatform();
        var memory = Memory = GuestMemory.Allocate(GuestLayout.RamRanges(Config.MemoryBytes), Config.HugePages);
        memory.MapInto(vm.MapMemory);

        var console = _console = new SerialConsole(consoleOut, prefix: "bhyve-aot: " + Config.MessagePrefix);
        var uart = _uart = new Uart8250(console.GuestOutput, new KvmIrqLine(vm, Uart8250.Com1Irq));
        Ports.Register(Uart8250.Com1Port, Uart8250.PortCount, uart);
        Ports.Register(DebugExit.DefaultPort, 1, new DebugExit(status => Stop(new VmExit(status, null))));
        Ports.Register(AcpiPorts.Base, AcpiPorts.PortCount, new AcpiPorts(r => Stop(r == AcpiRequest.PowerOff
            ? new VmExit(ExitCodes.PoweredOff, null)
            : new VmExit(ExitCodes.Reset, "guest requested a reset (ACPI reset register)"))));
        _ged = new AcpiGenericEventDevice(new KvmIrqLine(vm, AcpiGenericEventDevice.Gsi));
        Ports.Register(AcpiGenericEventDevice.Port, AcpiGenericEventDevice.PortCount, _ged);
        Ports.Register(KeyboardControllerReset.CommandPort, 1,
            new KeyboardControllerReset(() => Stop(new VmExit(ExitCodes.Reset, "guest requested a reset (keyboard controller)"))));
        // A terminal on stdin goes raw for the run (keys reach the guest as typed; "~." quits); pipes stay as they are.
        if (consoleIn is not null && !Console.IsInputRedirected) _rawTerminal = TerminalRawMode.TryEnter();
        if (consoleIn is not null)
            console.StartInput(consoleIn, uart, _rawTerminal is null ? null : new ConsoleEscape(),
                () => Stop(new VmExit(ExitCodes.ConsoleQuit, "quit from the console (~.)")));
        AttachPci(vm, memory);

        // The tables describe what was just built, nothing more.
        var acpi = AcpiBuilder.Write(memory, Describe());
        var boot = KernelLoader.Load(_kind, _image, memory, GuestLayout.MemoryMap(Config.MemoryBytes), Config.Cmdline, initrd, acpi.Rsdp);
        if (boot.Mode == EntryMode.Pvh32) BootCpuState.WriteGdt(memory);
        else BootCpuState.WriteLinux64Tables(memory);

        var supported = Kvm.GetSupportedCpuid();
        for (int i = 0; i < Config.Cpus; i++)
        {
            var vcpu = vm.CreateVcpu(i);
            KvmVcpus.Add(vcpu);
            vcpu.SetCpuid(CpuidPolicy.Apply(supported, i, Config.Cpus, Config.CpuidHide));
            foreach (var (msr, value) in BootMsrs.For(supported)) vcpu.TrySetMsr(msr, value);
            Vcpus.Add(vcpu);
        }
        // Only the boot CPU starts at the kernel entry; the others wait in the in-kernel LAPIC for INIT/SIPI.
        if (boot.Mode == EntryMode.Pvh32) BootCpuState.Apply(KvmVcpus[0], (uint)boot.Entry, boot.BootData);
        else BootCpuState.ApplyLinux64(KvmVcpus[0], boot.Entry, boot.BootData);
    }

    /// <summary>The machine as the ACPI tables must describe it, from the devices registered above.</summary>
    private AcpiMachine Describe() => AcpiDescription(Config.Cpus, serial: _uart is not null, powerButton: _ged is not null);

    /// <summary>The ACPI description of a PC machine with these parts, where this machine type puts them.</summary>
    internal static AcpiMachine AcpiDescription(int cpus, bool serial, bool powerButton) => new(
        cpus,
        new AcpiRegisters(
            SleepControlPort: AcpiPorts.Base + AcpiPorts.SleepControlOffset,
            SleepStatusPort: AcpiPorts.Base + AcpiPorts.SleepStatusOffset,
            ResetPort: AcpiPorts.Base + AcpiPorts.ResetOffset,
            ResetValue: AcpiPorts.ResetValue,
            S5SleepType: AcpiPorts.S5SleepType,
            SciIrq: AcpiPorts.SciIrq),
        new AcpiPciHost(PciEcam.Base, PciEcam.Size, GuestLayout.PciMmioWindowStart, GuestLayout.PciMmioWindowSize),
        serial ? [new AcpiSerialPort(Uart8250.Com1Port, (byte)Uart8250.PortCount, (byte)Uart8250.Com1Irq)] : [],
        powerButton ? new AcpiPowerButton(AcpiGenericEventDevice.Port, (uint)AcpiGenericEventDevice.Gsi, AcpiGenericEventDevice.PowerButtonEvent) : null);

    private protected override bool PressPowerButton()
    {
        if (_ged is not { } ged) return false;
        ged.PressPowerButton();
        return true;
    }

    /// <summary>The PCI root bus (host bridge, CF8/CFC and ECAM) and one function per configured device, each in its slot.</summary>
    private void AttachPci(Vm vm, GuestMemory memory)
    {
        var slots = PciSlots.Assign(Config);
        var root = new PciRoot(Mmio);
        root.Attach(PciSlots.HostBridge, new PciHostBridge());
        Ports.Register(PciConfigPorts.BasePort, PciConfigPorts.PortCount, new PciConfigPorts(root));
        Mmio.Register(PciEcam.Base, PciEcam.Size, new PciEcam(root));
        var routing = new KvmInterruptRouting(vm);
        var doorbells = new KvmDoorbellBinder(vm);
        var perKind = new Dictionary<IDeviceKind, int>();
        for (int i = 0; i < Config.Devices.Count; i++)
        {
            var config = Config.Devices[i];
            int index = perKind.GetValueOrDefault(config.Kind);
            perKind[config.Kind] = index + 1;
            var device = config.Kind.Attach(config, new DeviceContext(memory, routing.CreateMsiSink, doorbells, index));
            _devices.Add(device);
            root.Attach(slots[i], device.Function);
        }
    }

    private protected override IEnumerable<string> ShutdownDevices()
    {
        var problems = new List<string>();
        if (_devicesStopped) return problems;
        _devicesStopped = true;
        // Last built, first stopped; the list stays for --stats.
        for (int i = _devices.Count - 1; i >= 0; i--)
        {
            try
            {
                if (_devices[i].Shutdown() is { } problem) problems.Add(problem);
            }
            catch (Exception e)
            {
                problems.Add($"{_devices[i].Config.Who}: shutting down failed: {e.Message}");
            }
        }
        return problems;
    }

    private protected override void CloseConsole()
    {
        _uart?.CloseOutput();
        _console?.Close();
        _rawTerminal?.Dispose();
        _uart = null;
        _rawTerminal = null;
    }

    /// <summary>The Solo5 options mean nothing to other kernels: refused rather than ignored.</summary>
    private static void RefuseHvtOptions(VmConfig config, KernelKind kind)
    {
        string what = $"{config.KernelPath} is {KernelKinds.Describe(kind)}, not a Solo5 hvt unikernel";
        if (config.HvtBlocks.Count > 0) throw new ConfigException($"--block-device is for Solo5 hvt unikernels; {what} (use --disk)");
        if (config.HvtNets.Count > 0) throw new ConfigException($"--net-device is for Solo5 hvt unikernels; {what}");
        if (config.GuestArgs.Count > 0) throw new ConfigException($"arguments after -- are for Solo5 hvt unikernels; {what} (use --cmdline)");
    }

    /// <summary>A regular, non-empty file only, capped before it is read (Os/InputFile).</summary>
    private static byte[] ReadInitrd(string path)
    {
        try { return Os.InputFile.ReadAll(path, "--initrd", 1L << 30, allowEmpty: false); }
        catch (Os.InputFileException e) { throw new ConfigException(e.Message); }
    }
}
