namespace Bhyve.Aot.Devices.Bus;

/// <summary>
/// A device reached through a port or MMIO range. Offsets are relative to the range's base, so a device
/// does not care where it was placed. Called on vCPU threads; must not allocate or block.
/// </summary>
public interface IBusDevice
{
    void Read(ulong offset, Span<byte> data);
    void Write(ulong offset, ReadOnlySpan<byte> data);
}
