using System.Text.Json;
using Bhyve.Aot.Api;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// The API's view of a running machine: PATCH /vm parks and releases the vCPUs (Machine.Pause/Resume), SendCtrlAltDel
/// presses the ACPI power button, and the metrics lines read the machine's counters.
/// </summary>
public sealed class MachineControl(Machine machine) : IVmControl
{
    /// <summary>How long every vCPU gets to leave KVM_RUN and park; the guest's CPL0 code runs in KVM's emulator here, slowly.</summary>
    public static readonly TimeSpan PauseTimeout = TimeSpan.FromSeconds(5);

    public bool Paused => machine.IsPaused;

    /// <summary>Parks every vCPU; pausing a paused machine is a no-op, as in Firecracker. A pause that does not complete is undone.</summary>
    public string? Pause()
    {
        if (machine.IsPaused) return null;
        if (machine.Pause(PauseTimeout)) return null;
        machine.Resume();
        return $"the vCPUs did not all stop within {PauseTimeout.TotalSeconds:0} s (or the microVM is shutting down); it keeps running";
    }

    /// <summary>Lets the vCPUs run again; resuming a running machine is a no-op.</summary>
    public string? Resume()
    {
        machine.Resume();
        return null;
    }

    /// <summary>Firecracker's SendCtrlAltDel asks the guest to shut down; here that is one press of the ACPI power button.</summary>
    public string? SendCtrlAltDel() =>
        machine.PressPowerButtonOnly() ? null : "this machine (a Solo5 hvt unikernel) has no ACPI power button";

    public void WriteMetrics(Utf8JsonWriter json)
    {
        var exits = machine.Exits;
        json.WriteStartObject("vcpu");
        json.WriteNumber("exits", exits.Total);
        json.WriteNumber("exit_io", exits.Io);
        json.WriteNumber("exit_mmio", exits.Mmio);
        json.WriteNumber("exit_interrupted", exits.Interrupted);
        json.WriteNumber("exit_other", exits.Other);
        json.WriteEndObject();
        var d = new VirtioQueueCounters();
        var n = new NvmeCounters();
        if (machine is PcMachine pc)
        {
            foreach (var disk in pc.Devices.OfType<VirtioBlkKind.Disk>()) d.Add(disk.Device.Counters);
            foreach (var controller in pc.Devices.OfType<NvmeKind.Controller>()) n.Add(controller.Device.Counters);
        }
        json.WriteStartObject("block");
        json.WriteNumber("requests", d.Requests);
        json.WriteNumber("doorbells", d.Doorbells);
        json.WriteNumber("interrupts", d.Interrupts);
        json.WriteNumber("backend_full", d.BackendFull);
        json.WriteEndObject();
        json.WriteStartObject("nvme");
        json.WriteNumber("io_commands", n.IoCommands);
        json.WriteNumber("admin_commands", n.AdminCommands);
        json.WriteNumber("interrupts", n.Interrupts);
        json.WriteEndObject();
        if (machine.SerialConsole is { } serial)
        {
            json.WriteStartObject("uart");
            json.WriteNumber("written_bytes", serial.WrittenBytes);
            json.WriteNumber("dropped_bytes", serial.DroppedBytes);
            json.WriteEndObject();
        }
    }
}
