using System.Runtime.InteropServices;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// SIGTERM and SIGINT during a run: the process is not killed; the machine is asked to shut down (the guest sees the
/// ACPI power button, as bhyve turns SIGTERM into an ACPI power-off) and the run ends through the normal teardown,
/// flush and `--stats` included. With the console's terminal in raw mode Ctrl-C is a key for the guest, so a
/// SIGINT then only comes from kill(1).
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    private ShutdownSignals(Machine machine)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Handle(c, machine, "SIGTERM")),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Handle(c, machine, "SIGINT")),
        ];
    }

    public static ShutdownSignals Install(Machine machine) => new(machine);

    private static void Handle(PosixSignalContext context, Machine machine, string name)
    {
        context.Cancel = true;
        machine.RequestShutdown(name);
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
