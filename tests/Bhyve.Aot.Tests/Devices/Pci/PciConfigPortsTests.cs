using System.Buffers.Binary;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>Configuration mechanism #1 at 0xCF8/0xCFC: the address latch, the enable bit and sub-dword data accesses.</summary>
public sealed class PciConfigPortsTests
{
    private readonly PciRoot _root = new(new IoBus("mmio"));
    private readonly PciConfigPorts _ports;

    public PciConfigPortsTests()
    {
        _root.Attach(5, new TestPciDevice(new PciBar(0, 0x1000, false)));
        _ports = new PciConfigPorts(_root);
    }

    private static uint Address(int bus, int dev, int fn, int reg, bool enable = true) =>
        (enable ? 0x8000_0000u : 0) | (uint)(bus << 16 | dev << 11 | fn << 8 | reg);

    private void Latch(uint address) => _ports.Write(0, BitConverter.GetBytes(address));

    private byte[] Data(int port, int length)
    {
        var b = new byte[length];
        _ports.Read((ulong)(port - PciConfigPorts.BasePort), b);
        return b;
    }

    [Fact]
    public void The_address_latch_reads_back_as_a_dword()
    {
        Latch(0x8000_2810);
        Assert.Equal(0x8000_2810u, BinaryPrimitives.ReadUInt32LittleEndian(Data(0xCF8, 4)));
    }

    [Fact]
    public void Byte_writes_to_0xCF8_do_not_change_the_latch()
    {
        Latch(0x8000_2800);
        _ports.Write(0, [0x55]);
        _ports.Write(1, [0x55]);
        Assert.Equal(0x8000_2800u, BinaryPrimitives.ReadUInt32LittleEndian(Data(0xCF8, 4)));
    }

    [Fact]
    public void Dword_read_of_the_ID_register()
    {
        Latch(Address(0, 5, 0, 0));
        Assert.Equal(0x5678_1234u, BinaryPrimitives.ReadUInt32LittleEndian(Data(0xCFC, 4)));
    }

    [Fact]
    public void Byte_and_word_reads_at_0xCFD_to_0xCFF_pick_the_right_bytes()
    {
        Latch(Address(0, 5, 0, 0x08)); // revision 7, prog-if 0, subclass 0x80, class 0x01
        Assert.Equal([0x07], Data(0xCFC, 1));
        Assert.Equal([0x00], Data(0xCFD, 1));
        Assert.Equal([0x80], Data(0xCFE, 1));
        Assert.Equal([0x01], Data(0xCFF, 1));
        Assert.Equal([0x80, 0x01], Data(0xCFE, 2));
    }

    [Fact]
    public void The_low_two_address_bits_are_ignored()
    {
        Latch(Address(0, 5, 0, 0x02) | 0x3);
        Assert.Equal(0x5678_1234u, BinaryPrimitives.ReadUInt32LittleEndian(Data(0xCFC, 4)));
    }

    [Fact]
    public void Word_write_at_0xCFC_reaches_the_command_register()
    {
        Latch(Address(0, 5, 0, 0x04));
        _ports.Write(4, BitConverter.GetBytes((ushort)PciConfigSpace.CommandBusMaster));
        Assert.Equal([0x04, 0x00], Data(0xCFC, 2));
    }

    [Fact]
    public void Byte_write_at_0xCFD_reaches_the_second_byte()
    {
        Latch(Address(0, 5, 0, 0x3C));
        _ports.Write(4, [0x0A]);          // interrupt line
        _ports.Write(5, [0x09]);          // interrupt pin: read-only
        Assert.Equal([0x0A, 0x00], Data(0xCFC, 2));
    }

    [Fact]
    public void Without_the_enable_bit_reads_are_all_ones_and_writes_dropped()
    {
        Latch(Address(0, 5, 0, 0x04, enable: false));
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], Data(0xCFC, 4));
        _ports.Write(4, BitConverter.GetBytes((ushort)PciConfigSpace.CommandMemory));
        Latch(Address(0, 5, 0, 0x04));
        Assert.Equal([0x00, 0x00], Data(0xCFC, 2));
    }

    [Theory]
    [InlineData(0, 6, 0)]   // empty slot
    [InlineData(0, 5, 1)]   // function 1 of a single-function device
    [InlineData(1, 5, 0)]   // another bus
    public void An_absent_function_reads_all_ones(int bus, int dev, int fn)
    {
        Latch(Address(bus, dev, fn, 0));
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], Data(0xCFC, 4));
    }
}
