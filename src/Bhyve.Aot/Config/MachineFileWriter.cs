using System.Text.Json;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// Writes a VmConfig as a machine file with every effective value spelled out (defaults and the PCI slot each device
/// gets included), so the three front ends' results can be compared and the output can be run with --config.
/// </summary>
public static class MachineFileWriter
{
    public static MachineFile FromVmConfig(VmConfig config)
    {
        var file = Sections(config);
        var slots = PciSlots.Assign(config);
        foreach (var forms in DeviceFormsRegistry.All)
        {
            var mine = config.Devices.Select((d, i) => (Device: d, Slot: slots[i])).Where(e => ReferenceEquals(e.Device.Kind, forms.Kind)).ToArray();
            forms.Write(file, mine);
        }
        return file;
    }

    private static MachineFile Sections(VmConfig config)
    {
        bool hvt = config.HvtBlocks.Count > 0 || config.HvtNets.Count > 0 || config.GuestArgs.Count > 0;
        return new MachineFile
        {
            Name = config.Name,
            BootSource = new BootSourceSection { KernelImagePath = config.KernelPath, BootArgs = config.Cmdline, InitrdPath = config.InitrdPath },
            MachineConfig = new MachineConfigSection
            {
                VcpuCount = config.Cpus,
                MemSizeMib = config.MemoryBytes % (1 << 20) == 0 ? config.MemoryBytes >> 20 : null,
                MemSize = config.MemoryBytes % (1 << 20) == 0 ? null : ByteSize.Format(config.MemoryBytes),
                HugePages = config.HugePages ? "2M" : "None",
                CpuidHide = config.CpuidHide.Select(f => f.Name).ToList(),
            },
            Hvt = hvt
                ? new HvtSection
                {
                    BlockDevices = config.HvtBlocks.Select(b => new HvtBlockEntry { Name = b.Name, PathOnHost = b.Target }).ToList(),
                    NetDevices = config.HvtNets.Select(n => new HvtNetEntry { Name = n.Name, HostDevName = n.Target }).ToList(),
                    Args = config.GuestArgs.ToList(),
                }
                : null,
        };
    }

    public static string Write(VmConfig config) =>
        JsonSerializer.Serialize(FromVmConfig(config), MachineFileJsonContext.Printable.MachineFile);
}
