using Bhyve.Aot.Boot;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Vmm;

/// <summary>How a machine is run: the host-side switches that are not part of the machine itself.</summary>
public sealed record MachineRunOptions
{
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(10);

    /// <summary>SIGTERM and SIGINT ask the guest to power off (ACPI power button) instead of killing the process.</summary>
    public bool HandleSignals { get; init; }
    /// <summary>How long a guest asked to power off gets before it is stopped (`--shutdown-timeout`).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = DefaultShutdownTimeout;
}

/// <summary>
/// One VM from configuration to exit status, as a composition root: the machine type (<see cref="PcMachine"/> or
/// <see cref="HvtMachine"/>) builds KVM's VM, guest memory and its devices; every type shares the vCPU threads
/// (<see cref="VcpuSet"/>) and the lifecycle: run until a result, then stop the vCPUs, then the devices (queues
/// drained, backends flushed), then free guest memory, and report a failed flush instead of hiding it.
/// </summary>
public abstract class Machine
{
    /// <summary>When the first shutdown request came (Environment.TickCount64, positive once set); 0 before.</summary>
    private long _firstShutdownRequest;
    /// <summary>A second request this soon after the first is the same one delivered twice.</summary>
    internal const int SameRequestMs = 500;
    private MachineRunOptions _options = new();
    private readonly List<string> _teardownProblems = [];

    private protected Machine(VmConfig config, bool hvtLimits = false)
    {
        config.Validate(hvtLimits);
        Config = config;
        Vcpus = new VcpuSet(Ports, Mmio, MapVcpuExit);
    }

    protected VmConfig Config { get; }
    public IoBus Ports { get; } = new("port");
    public IoBus Mmio { get; } = new("MMIO");
    internal VcpuSet Vcpus { get; }
    private protected KvmHost? Kvm { get; set; }
    private protected Vm? Vm { get; set; }
    private protected GuestMemory? Memory { get; set; }
    private protected List<Vcpu> KvmVcpus { get; } = [];

    /// <summary>Reads the kernel image and builds the machine type it needs; image and configuration errors throw here.</summary>
    public static Machine Create(VmConfig config)
    {
        config.Validate();
        byte[] image = ReadKernel(config.KernelPath);
        // Recognise the image before touching KVM so a bad one is reported as such even on a host without KVM.
        var kind = KernelKinds.Detect(image);
        return kind == KernelKind.Solo5Hvt ? new HvtMachine(config, ElfImage.Parse(image), image) : new PcMachine(config, image, kind);
    }

    /// <summary>Raised once everything is built and loaded, just before the vCPUs start (the API's InstanceStart answers then).</summary>
    public event Action? Running;

    /// <summary>The serial console (COM1) of a PC-style machine; null for an hvt machine or before Run.</summary>
    public virtual SerialConsole? SerialConsole => null;

    /// <summary>Exits taken to user space by all vCPUs, summed.</summary>
    public ExitCounters Exits => Vcpus.Exits;

    /// <summary>Lines for `--stats` beyond the exit counts: one per device kind present, and the machine type's own.</summary>
    public virtual IEnumerable<string> StatsLines() => [];

    /// <summary>What went wrong while tearing down (a failed flush, a vCPU that would not stop); also reflected in the exit status.</summary>
    public IReadOnlyList<string> TeardownProblems => _teardownProblems;

    /// <summary>Ends the run with this result; the first caller wins.</summary>
    public void Stop(VmExit result) => Vcpus.Stop(result);

    /// <summary>
    /// Asks the guest to power off (SIGTERM, SIGINT, an API call): the ACPI power button where the machine has one,
    /// then a stop once the shutdown timeout has passed. A second request (more than half a second after the first),
    /// or a machine without a power button, stops at once.
    /// </summary>
    public void RequestShutdown(string why)
    {
        long now = Environment.TickCount64;
        long first = Interlocked.CompareExchange(ref _firstShutdownRequest, now, 0);
        if (first != 0)
        {
            // timeout(1) and a kill of the process group deliver one signal twice within microseconds: that is one request.
            if (now - first < SameRequestMs) return;
            Stop(new VmExit(ExitCodes.StoppedBySignal, $"{why} again: stopped without waiting for the guest"));
            return;
        }
        var timeout = _options.ShutdownTimeout;
        if (timeout <= TimeSpan.Zero || !PressPowerButton())
        {
            Stop(new VmExit(ExitCodes.StoppedBySignal, $"{why}: stopped ({(timeout <= TimeSpan.Zero ? "--shutdown-timeout 0" : "this machine has no power button")})"));
            return;
        }
        _ = Task.Delay(timeout).ContinueWith(_ =>
            Stop(new VmExit(ExitCodes.StoppedBySignal, $"{why}: the guest did not power off within {timeout.TotalSeconds:0.###} s of the power button; stopped")),
            TaskScheduler.Default);
    }

    /// <summary>
    /// Presses the ACPI power button once and nothing more (the API's SendCtrlAltDel): the guest decides what to do, and
    /// no stop follows if it ignores it (<see cref="RequestShutdown"/> adds that). False when the machine has no button.
    /// </summary>
    public bool PressPowerButtonOnly() => PressPowerButton();

    /// <summary>Pauses every vCPU (out of KVM_RUN, parked); false when that did not happen within <paramref name="timeout"/> or the machine is stopping.</summary>
    public bool Pause(TimeSpan timeout) => Vcpus.Pause(timeout);

    public void Resume() => Vcpus.Resume();

    public bool IsPaused => Vcpus.IsPaused;

    /// <summary>Boots the guest and blocks until it ends and the machine is torn down.</summary>
    public VmExit Run(Stream consoleOut, Stream? consoleIn, MachineRunOptions? options = null)
    {
        _options = options ?? new MachineRunOptions();
        bool started = false;
        try
        {
            Build(consoleOut, consoleIn);
            using var signals = _options.HandleSignals ? ShutdownSignals.Install(this) : null;
            Running?.Invoke();
            Vcpus.Start();
            started = true;
            // From here the main thread only waits, tears down and reports: its seccomp filter, then the guest runs.
            Vcpus.EnterMainFilter();
            var result = Vcpus.WaitForResult();
            return TearDown(result);
        }
        finally
        {
            if (!started) ReleaseAfterFailedBuild();
        }
    }

    /// <summary>Creates the VM, memory, devices and vCPUs (added to <see cref="Vcpus"/>), ready to start.</summary>
    private protected abstract void Build(Stream consoleOut, Stream? consoleIn);

    /// <summary>Presses the ACPI power button; false when the machine has none.</summary>
    private protected virtual bool PressPowerButton() => false;

    /// <summary>Rewrites the result a vCPU loop ends with.</summary>
    private protected virtual VmExit MapVcpuExit(VmExit exit) => exit;

    /// <summary>Stops the devices after the vCPUs: returns one line per failure (a failed flush).</summary>
    private protected abstract IEnumerable<string> ShutdownDevices();

    /// <summary>Closes the console and whatever else the machine type holds, after the devices.</summary>
    private protected virtual void CloseConsole() { }

    /// <summary>Stop order: vCPUs, devices, console, guest memory and the VM.</summary>
    private VmExit TearDown(VmExit result)
    {
        Vcpus.Stop(result);
        bool joined = Vcpus.Join(TimeSpan.FromSeconds(5));
        if (!joined) _teardownProblems.Add("a vCPU did not leave KVM_RUN within 5 s; guest memory is left to process exit");
        foreach (var problem in ShutdownDevices()) _teardownProblems.Add(problem);
        CloseConsole();
        if (joined) ReleaseKvm();
        if (_teardownProblems.Count == 0) return result;
        // A guest that powered off must not report success when its data may be lost; any other result keeps its status.
        string reason = string.Join("; ", _teardownProblems);
        bool guestOk = result.Code == ExitCodes.PoweredOff && result.Message is null;
        return guestOk
            ? new VmExit(ExitCodes.TeardownFailed, reason)
            : result with { Message = $"{result.Message}; {reason}" };
    }

    private void ReleaseAfterFailedBuild()
    {
        try { foreach (var _ in ShutdownDevices()) { } }
        catch (Exception) { /* the build's own exception is the one to report */ }
        CloseConsole();
        ReleaseKvm();
    }

    private void ReleaseKvm()
    {
        foreach (var v in KvmVcpus) v.Dispose();
        KvmVcpus.Clear();
        Memory?.Dispose();
        Memory = null;
        Vm?.Dispose();
        Vm = null;
    }

    /// <summary>A regular file only, capped before it is read (Os/InputFile).</summary>
    private static byte[] ReadKernel(string path)
    {
        try { return InputFile.ReadAll(path, "kernel image", 512L << 20); }
        catch (InputFileException e) { throw new ConfigException(e.Message); }
    }
}
