using Bhyve.Aot.Devices;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// What a device kind gets to build one device: guest memory, its interrupt vectors and doorbells (KVM irqfds and
/// ioeventfds in a real machine, fakes in tests), and its index among the devices of its kind.
/// </summary>
public sealed class DeviceContext(GuestMemory memory, Func<int, IMsiSink> createMsiSink, IDoorbellBinder doorbells, int index)
{
    public GuestMemory Memory { get; } = memory;
    public IDoorbellBinder Doorbells { get; } = doorbells;
    /// <summary>0 for the first device of its kind in the configuration, 1 for the next, ...</summary>
    public int Index { get; } = index;

    /// <summary>A sink for <paramref name="vectors"/> MSI-X vectors.</summary>
    public IMsiSink CreateMsiSink(int vectors) => createMsiSink(vectors);
}
