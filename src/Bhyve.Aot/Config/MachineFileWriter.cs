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
        var slots = PciSlots.Assign(config);
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
            Drives = config.Disks.Select((d, i) => new DriveEntry
            {
                DriveId = $"disk{i}",
                PathOnHost = d.Path,
                IsReadOnly = d.ReadOnly,
                Discard = d.Discard == DiscardMode.Unmap ? "unmap" : "ignore",
                Direct = d.Direct,
                Queues = d.Queues,
                QueueSize = d.QueueSize,
                Serial = d.Serial,
                CreateSize = d.Create ? ByteSize.Format(d.CreateSize) : null,
                PciSlot = slots.Disks[i],
                Lock = d.Lock ? null : false,
            }).ToList(),
            Nvme = config.Nvme.Select((n, i) => new NvmeEntry
            {
                DriveId = $"nvme{i}",
                PathOnHost = n.Path,
                RamSize = n.RamBytes != 0 ? ByteSize.Format(n.RamBytes) : null,
                IsReadOnly = n.ReadOnly,
                Dsm = n.Dsm switch { DsmMode.Enable => "enable", DsmMode.Disable => "disable", _ => "auto" },
                Queues = n.Queues,
                QueueSize = n.QueueSize,
                SectorSize = n.SectorSize,
                Serial = n.Serial,
                Direct = n.Direct,
                CreateSize = n.Create ? ByteSize.Format(n.CreateSize) : null,
                PciSlot = slots.Nvme[i],
            }).ToList(),
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
