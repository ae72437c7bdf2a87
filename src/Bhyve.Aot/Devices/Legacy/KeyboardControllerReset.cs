using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Devices.Legacy;

/// <summary>
/// Just enough of an i8042 command port (0x64) for the PC's oldest reset path: the pulse-reset command
/// 0xFE ends the run as a reset. Status reads return 0 (input buffer empty) so a guest waiting to send a
/// command does not spin; there is no keyboard behind it, and the DSDT announces none.
/// </summary>
public sealed class KeyboardControllerReset(Action reset) : IBusDevice
{
    public const ushort CommandPort = 0x64;
    public const byte PulseReset = 0xFE;

    public void Read(ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data[0] == PulseReset) reset();
    }
}
