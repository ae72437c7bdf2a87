using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Tests.Devices.Bus;

/// <summary>A bus device that remembers every access and answers reads with bytes derived from the offset.</summary>
internal sealed class RecordingDevice(string name = "dev") : IBusDevice
{
    public string Name { get; } = name;
    public List<(bool Write, ulong Offset, byte[] Data)> Accesses { get; } = [];

    public static byte ReadValue(ulong offset, int index) => (byte)(0x40 + offset + (ulong)index);

    public void Read(ulong offset, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++) data[i] = ReadValue(offset, i);
        Accesses.Add((false, offset, data.ToArray()));
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data) => Accesses.Add((true, offset, data.ToArray()));

    public override string ToString() => Name;
}
