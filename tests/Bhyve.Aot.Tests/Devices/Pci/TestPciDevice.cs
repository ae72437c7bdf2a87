using Bhyve.Aot.Devices.Pci;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>A minimal PCI function for bus-level tests: given BARs, and a record of BAR accesses and (un)mappings.</summary>
internal sealed class TestPciDevice : PciDevice
{
    public TestPciDevice(params PciBar[] bars) : base(new PciConfigSpace(0x1234, 0x5678, classCode: 0x01, subClass: 0x80, progIf: 0x00, revision: 7))
    {
        foreach (var bar in bars) AddBar(bar);
    }

    public List<(int Index, ulong Address)> Mapped { get; } = [];
    public List<(int Index, ulong Address)> Unmapped { get; } = [];
    public List<(int Index, ulong Offset, int Length)> Writes { get; } = [];

    /// <summary>Reads return the BAR index in every byte, so a test sees which BAR answered.</summary>
    protected override void BarRead(int index, ulong offset, Span<byte> data) => data.Fill((byte)(0xB0 + index));
    protected override void BarWrite(int index, ulong offset, ReadOnlySpan<byte> data) => Writes.Add((index, offset, data.Length));
    protected override void OnBarMapped(int index, ulong address) => Mapped.Add((index, address));
    protected override void OnBarUnmapped(int index, ulong address) => Unmapped.Add((index, address));

    public uint ReadConfig32(int offset)
    {
        Span<byte> b = stackalloc byte[4];
        ConfigRead(offset, b);
        return BitConverter.ToUInt32(b);
    }

    public void WriteConfig32(int offset, uint value) => ConfigWrite(offset, BitConverter.GetBytes(value));
    public void WriteConfig16(int offset, ushort value) => ConfigWrite(offset, BitConverter.GetBytes(value));
}
