using System.Text.Json;
using Bhyve.Aot.Api;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// The API's view of a running machine. Pause/resume and the power button come with the machine lifecycle work
/// (issue 13/17); until the machine offers them these calls say so (400), they never pretend.
/// </summary>
public sealed class MachineControl(Machine machine) : IVmControl
{
    public bool Paused => false;

    public string? Pause() => "pausing a running microVM is not built in bhyve-aot yet";

    public string? Resume() => "the microVM is not paused (pausing is not built in bhyve-aot yet)";

    public string? SendCtrlAltDel() => "SendCtrlAltDel needs the ACPI power button, which is not built in bhyve-aot yet";

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
