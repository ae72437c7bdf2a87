namespace Bhyve.Aot.Devices.Legacy;

/// <summary>
/// QEMU's isa-debug-exit, so one guest ELF ends the same way on both VMMs: a write of value v to the
/// port ends the VM with process status (v &lt;&lt; 1) | 1 (truncated to 8 bits). Reads return all ones.
/// </summary>
public sealed class DebugExit(Action<int> exit) : Devices.Bus.IBusDevice
{
    public const ushort DefaultPort = 0x501;

    public static int StatusFor(ulong value) => (int)(((value << 1) | 1) & 0xFF);

    public void Read(ulong offset, Span<byte> data) => data.Fill(0xFF);

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        for (int i = data.Length - 1; i >= 0; i--) value = (value << 8) | data[i];
        exit(StatusFor(value));
    }
}
