using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Devices.Virtio;

/// <summary>
/// A virtio device type (block, later net, console, rng), independent of the transport that carries it.
/// Activate and Reset are called on vCPU threads by the transport's status state machine.
/// </summary>
public interface IVirtioDevice
{
    /// <summary>The virtio device ID (2 = block).</summary>
    ushort DeviceType { get; }
    ulong DeviceFeatures { get; }
    int QueueCount { get; }
    ushort MaxQueueSize { get; }
    int ConfigSize { get; }
    void ReadConfig(int offset, Span<byte> data);
    void WriteConfig(int offset, ReadOnlySpan<byte> data);

    /// <summary>Starts serving the queues with the negotiated features (DRIVER_OK).</summary>
    void Activate(VirtioActivation activation);

    /// <summary>Stops serving and waits until no I/O is in flight; returns with the device idle (status 0 may then be shown).</summary>
    void Reset();
}

/// <summary>Interrupts a device may raise; the transport maps them to MSI-X vectors.</summary>
public interface IVirtioInterrupts
{
    void Queue(int queue);
    void ConfigChanged();
}

/// <summary>Everything a device needs to run, handed over at DRIVER_OK.</summary>
public sealed class VirtioActivation(GuestMemory memory, ulong features, SplitVirtqueue?[] queues, EventFd[] notifiers,
                                     IVirtioInterrupts interrupts, Action<string> needsReset)
{
    public GuestMemory Memory { get; } = memory;
    public ulong Features { get; } = features;
    /// <summary>One entry per queue; null for queues the driver did not enable.</summary>
    public SplitVirtqueue?[] Queues { get; } = queues;
    /// <summary>The doorbell of each queue: signalled by KVM (ioeventfd) or by the transport on a trapped write.</summary>
    public EventFd[] Notifiers { get; } = notifiers;
    public IVirtioInterrupts Interrupts { get; } = interrupts;
    /// <summary>Marks the device DEVICE_NEEDS_RESET (ring corruption) with a reason, and raises a config interrupt.</summary>
    public Action<string> NeedsReset { get; } = needsReset;

    public bool Has(int feature) => (Features & (1UL << feature)) != 0;
}

/// <summary>Feature bits common to all device types.</summary>
public static class VirtioFeatures
{
    public const int IndirectDesc = 28, EventIdx = 29, Version1 = 32;
}
