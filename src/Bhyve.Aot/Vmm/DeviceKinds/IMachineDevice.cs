using Bhyve.Aot.Devices.Pci;

namespace Bhyve.Aot.Vmm;

/// <summary>A device the machine built from an <see cref="IDeviceConfig"/>: what sits in its PCI slot, and how it ends.</summary>
public interface IMachineDevice
{
    IDeviceConfig Config { get; }
    /// <summary>The function the PCI root holds in the device's slot.</summary>
    PciDevice Function { get; }

    /// <summary>
    /// Stops the device at VM exit, after every vCPU has left KVM_RUN and before guest memory goes: workers stopped
    /// and drained, the backend flushed. Returns null, or one line saying what failed (a failed flush: data the guest
    /// wrote may not be on the disk), which the machine reports with its own exit status.
    /// </summary>
    string? Shutdown();
}
