using System.Buffers.Binary;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>ECAM: bus/device/function/register from the offset, natural alignment, absent functions all ones.</summary>
public sealed class PciEcamTests
{
    private readonly PciRoot _root = new(new IoBus("mmio"));
    private readonly PciEcam _ecam;
    private readonly TestPciDevice _device = new(new PciBar(0, 0x1000, false));

    public PciEcamTests()
    {
        _root.Attach(9, _device);
        _ecam = new PciEcam(_root);
    }

    private static ulong Offset(int bus, int dev, int fn, int reg) => ((ulong)(uint)bus << 20) | ((ulong)(uint)dev << 15) | ((ulong)(uint)fn << 12) | (uint)reg;

    private byte[] Read(ulong offset, int length)
    {
        var b = new byte[length];
        _ecam.Read(offset, b);
        return b;
    }

    [Fact]
    public void Decodes_device_and_register()
    {
        Assert.Equal(0x5678_1234u, BinaryPrimitives.ReadUInt32LittleEndian(Read(Offset(0, 9, 0, 0), 4)));
        Assert.Equal([0x80, 0x01], Read(Offset(0, 9, 0, 0x0A), 2));
        Assert.Equal([0x01], Read(Offset(0, 9, 0, 0x0B), 1));
    }

    [Fact]
    public void Registers_above_256_are_reachable()
    {
        _device.Config.Set32(0x100, 0xCAFE_F00D);
        Assert.Equal(0xCAFE_F00Du, BinaryPrimitives.ReadUInt32LittleEndian(Read(Offset(0, 9, 0, 0x100), 4)));
    }

    [Fact]
    public void Writes_reach_the_function()
    {
        _ecam.Write(Offset(0, 9, 0, PciConfigSpace.Command), BitConverter.GetBytes((ushort)PciConfigSpace.CommandMemory));
        Assert.Equal(PciConfigSpace.CommandMemory, _device.Config.CommandRegister);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(0xFFE, 4)] // would also cross into the next function
    public void Misaligned_accesses_read_all_ones_and_writes_are_ignored(int register, int length)
    {
        Assert.True(Read(Offset(0, 9, 0, register), length).All(b => b == 0xFF));
        _ecam.Write(Offset(0, 9, 0, PciConfigSpace.Command + 1), BitConverter.GetBytes((ushort)0x0606));
        Assert.Equal(0, _device.Config.CommandRegister);
    }

    [Theory]
    [InlineData(0, 10, 0)]
    [InlineData(0, 9, 3)]
    [InlineData(7, 9, 0)]
    [InlineData(255, 31, 7)]
    public void Absent_functions_read_all_ones(int bus, int dev, int fn)
    {
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], Read(Offset(bus, dev, fn, 0), 4));
        _ecam.Write(Offset(bus, dev, fn, PciConfigSpace.Command), BitConverter.GetBytes((ushort)PciConfigSpace.CommandMemory));
        Assert.Equal(0, _device.Config.CommandRegister);
    }

    [Fact]
    public void The_ECAM_window_matches_QEMU_microvm()
    {
        Assert.Equal(0xE000_0000UL, PciEcam.Base);
        Assert.Equal(256UL << 20, PciEcam.Size);
    }
}
