using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>An interrupt line that only records its level.</summary>
internal sealed class RecordingLine : IInterruptLine
{
    public volatile bool Level;
    public int Raised;
    public void SetLevel(bool asserted)
    {
        if (asserted && !Level) Interlocked.Increment(ref Raised);
        Level = asserted;
    }
}

/// <summary>
/// A machine built in-process through the KVM seam: scripted vCPUs instead of KVM's, the real ACPI sleep/reset
/// registers and power button on the port bus, and devices whose shutdown the test controls. It runs through
/// <see cref="Machine.Run"/>, the lifecycle every machine type shares.
/// </summary>
internal sealed class TestMachine : Machine
{
    private readonly Func<int, ScriptedVcpu> _vcpu;
    private readonly int _cpus;
    public readonly List<string> Events = [];
    public readonly RecordingLine GedLine = new();
    public AcpiGenericEventDevice Ged { get; }
    public string? FlushProblem { get; init; }
    public bool HasPowerButton { get; init; } = true;
    public List<ScriptedVcpu> Cpus { get; } = [];

    public TestMachine(Func<int, ScriptedVcpu> vcpu, int cpus = 1) : base(new VmConfig { KernelPath = "test", Cpus = cpus })
    {
        _vcpu = vcpu;
        _cpus = cpus;
        Ged = new AcpiGenericEventDevice(GedLine);
    }

    private protected override void Build(Stream consoleOut, Stream? consoleIn)
    {
        Ports.Register(AcpiPorts.Base, AcpiPorts.PortCount, new AcpiPorts(r =>
            Stop(r == AcpiRequest.PowerOff ? new VmExit(ExitCodes.PoweredOff, null) : new VmExit(ExitCodes.Reset, "reset"))));
        Ports.Register(AcpiGenericEventDevice.Port, 1, Ged);
        Ports.Register(DebugExit.DefaultPort, 1, new DebugExit(status => Stop(new VmExit(status, null))));
        for (int i = 0; i < _cpus; i++)
        {
            var v = _vcpu(i);
            Cpus.Add(v);
            Vcpus.Add(v);
        }
    }

    private protected override bool PressPowerButton()
    {
        if (!HasPowerButton) return false;
        Ged.PressPowerButton();
        return true;
    }

    private protected override IEnumerable<string> ShutdownDevices()
    {
        // Stop order: every vCPU thread must be gone before a device is stopped.
        lock (Events) Events.Add(Vcpus.Join(TimeSpan.Zero) ? "devices stopped after the vCPUs" : "devices stopped while a vCPU ran");
        return FlushProblem is { } p ? [p] : [];
    }

    private protected override void CloseConsole()
    {
        lock (Events) Events.Add("console closed");
    }

    /// <summary>A guest that polls the power button's event register and powers off through the sleep control register once it is set.</summary>
    public static Func<byte?, PortAccess?> PollingGuest()
    {
        bool pressed = false;
        return lastIn =>
        {
            if (lastIn is { } v && (v & AcpiGenericEventDevice.PowerButtonEvent) != 0) pressed = true;
            return pressed
                ? new PortAccess(true, AcpiPorts.Base + AcpiPorts.SleepControlOffset, (AcpiPorts.S5SleepType << 2) | AcpiPorts.SleepEnable)
                : new PortAccess(false, AcpiGenericEventDevice.Port);
        };
    }

    /// <summary>A guest that spins on a port nobody decodes and never looks at the power button.</summary>
    public static Func<byte?, PortAccess?> BusyGuest() => _ => new PortAccess(false, 0x80);

    /// <summary>A guest that halts at once (sits in KVM_RUN until kicked).</summary>
    public static Func<byte?, PortAccess?> HaltedGuest() => _ => null;
}
