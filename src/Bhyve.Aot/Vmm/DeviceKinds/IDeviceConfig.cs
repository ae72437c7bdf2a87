namespace Bhyve.Aot.Vmm;

/// <summary>
/// One device a VmConfig asks for (a disk, an NVMe controller, ...): a plain immutable record whose kind knows how
/// to read it from the long options, check it, place it on PCI and build it.
/// </summary>
public interface IDeviceConfig
{
    IDeviceKind Kind { get; }
    /// <summary>The PCI slot the user chose (1..31); null: the next free one.</summary>
    int? PciSlot { get; }
    /// <summary>How messages name this device: "disk a.img", "nvme ram=64M".</summary>
    string Who { get; }
    /// <summary>The limits every front end's device must meet; throws ConfigException naming the device and the field.</summary>
    void Validate();
}
