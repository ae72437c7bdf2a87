using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// Bus 0 of the PCI root complex: 32 slots of single-function devices, configuration access (reached
/// through CF8/CFC and ECAM), and BAR placement in the 32-bit MMIO window of GuestLayout.
/// </summary>
public sealed class PciRoot(IoBus mmio)
{
    public const int SlotCount = 32;
    private readonly PciDevice?[] _slots = new PciDevice?[SlotCount];
    private ulong _nextMmio = GuestLayout.PciMmioWindowStart;

    public IoBus Mmio { get; } = mmio;

    public PciDevice? this[int slot] => _slots[slot];

    /// <summary>Places a device in a slot and gives its BARs addresses in the MMIO window (naturally aligned).</summary>
    public void Attach(int slot, PciDevice device)
    {
        if ((uint)slot >= SlotCount) throw new ArgumentOutOfRangeException(nameof(slot), $"PCI slot {slot} is not 0..31");
        if (_slots[slot] is not null) throw new InvalidOperationException($"PCI slot {slot} is already used");
        device.Attach(Mmio, AllocateBar);
        _slots[slot] = device;
    }

    private ulong AllocateBar(PciBar bar)
    {
        ulong address = (_nextMmio + bar.Size - 1) & ~(bar.Size - 1);
        if (address + bar.Size > GuestLayout.PciMmioWindowStart + GuestLayout.PciMmioWindowSize)
            throw new InvalidOperationException("the PCI MMIO window is full");
        _nextMmio = address + bar.Size;
        return address;
    }

    public void ConfigRead(int bus, int device, int function, int register, Span<byte> data)
    {
        var target = Find(bus, device, function);
        if (target is null) data.Fill(0xFF);
        else target.ConfigRead(register, data);
    }

    public void ConfigWrite(int bus, int device, int function, int register, ReadOnlySpan<byte> data) =>
        Find(bus, device, function)?.ConfigWrite(register, data);

    private PciDevice? Find(int bus, int device, int function) =>
        bus == 0 && function == 0 && (uint)device < SlotCount ? _slots[device] : null;
}
