namespace Bhyve.Aot.Vmm;

/// <summary>
/// The registry: every device kind the machine offers, in the order PCI slots are handed out to devices without a
/// chosen slot. A new device kind is registered here, one line (see the README's "Adding a device").
/// </summary>
public static class DeviceKinds
{
    public static IReadOnlyList<IDeviceKind> All { get; } =
    [
        VirtioBlkKind.Instance,
        NvmeKind.Instance,
    ];

    /// <summary>The kind's place in <see cref="All"/>: VmConfig keeps its devices grouped in this order.</summary>
    public static int IndexOf(IDeviceKind kind)
    {
        for (int i = 0; i < All.Count; i++) if (ReferenceEquals(All[i], kind)) return i;
        throw new InvalidOperationException($"device kind {kind.Name} is not registered in DeviceKinds.All");
    }
}
