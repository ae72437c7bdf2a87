using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// How one registered device kind is written in the front ends' own syntaxes: bhyve's `-s SLOT,EMULATION,CONF` and
/// the machine file's section. BhyveSlot, MachineFileReader and MachineFileWriter iterate over
/// <see cref="DeviceFormsRegistry.All"/>; the kind itself (long option, checks, attach) is in Vmm/DeviceKinds.
/// </summary>
public interface IDeviceForms
{
    IDeviceKind Kind { get; }

    /// <summary>bhyve's emulation names for this kind (`virtio-blk`).</summary>
    IReadOnlyList<string> BhyveEmulations { get; }

    /// <summary>Reads `-s SLOT,EMULATION,CONF`'s CONF; <paramref name="label"/> ("-s 2,virtio-blk") starts every message.</summary>
    IDeviceConfig ParseBhyve(string label, string conf, int slot);

    /// <summary>This kind's devices in a machine file, each validated, messages prefixed with its place ("drives[0]").</summary>
    IEnumerable<IDeviceConfig> Read(MachineFile file);

    /// <summary>The ids the file gives this kind's entries (drive_id), checked unique across all kinds.</summary>
    IEnumerable<string?> Ids(MachineFile file);

    /// <summary>Writes this kind's devices (with the slot each got) into the file's section.</summary>
    void Write(MachineFile file, IReadOnlyList<(IDeviceConfig Device, int Slot)> devices);
}

/// <summary>The Config-side half of the registry, one entry per kind of <see cref="DeviceKinds.All"/>.</summary>
public static class DeviceFormsRegistry
{
    public static IReadOnlyList<IDeviceForms> All { get; } =
    [
        new VirtioBlkForms(),
        new NvmeForms(),
    ];

    /// <summary>The forms of the kind that answers to bhyve emulation <paramref name="emulation"/>; null when none does.</summary>
    public static IDeviceForms? ForBhyveEmulation(string emulation) => All.FirstOrDefault(f => f.BhyveEmulations.Contains(emulation));

    public static IDeviceForms For(IDeviceKind kind) =>
        All.FirstOrDefault(f => ReferenceEquals(f.Kind, kind)) ?? throw new InvalidOperationException($"device kind {kind.Name} has no entry in DeviceFormsRegistry.All");
}
