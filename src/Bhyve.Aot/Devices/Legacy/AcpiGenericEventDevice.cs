using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Devices.Legacy;

/// <summary>
/// The ACPI Generic Event Device (ACPI0013) behind the power button of a hardware-reduced machine, which has no
/// fixed-feature power button: an event register of one I/O port and a level-triggered interrupt line. A press sets
/// bit 0 and raises the line; a read returns the pending events, clears them and lowers the line. The DSDT's _EVT
/// method reads the register and notifies the power button device (PNP0C0C) with 0x80, which a kernel's button
/// driver turns into a power-off request; polled test guests read the register themselves.
/// </summary>
public sealed class AcpiGenericEventDevice(IInterruptLine line) : IBusDevice
{
    public const ushort Port = 0x604;
    public const int PortCount = 1;
    /// <summary>An IOAPIC input above the ISA range, so no legacy edge-trigger assumption applies to it.</summary>
    public const int Gsi = 16;
    public const byte PowerButtonEvent = 0x01;

    private readonly Lock _lock = new();
    private byte _pending;
    private long _presses;

    /// <summary>How many times the power button was pressed.</summary>
    public long Presses => Interlocked.Read(ref _presses);

    public void PressPowerButton()
    {
        lock (_lock)
        {
            _pending |= PowerButtonEvent;
            _presses++;
            line.SetLevel(true);
        }
    }

    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset != 0) return;
        lock (_lock)
        {
            data[0] = _pending;
            if (_pending == 0) return;
            _pending = 0;
            line.SetLevel(false);
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        // Read-to-clear: writes have no effect.
    }
}
