using System.Buffers.Binary;
using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Pci;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>MSI-X: capability layout, masking, routing on unmask, pending bits, and dropping while disabled.</summary>
public sealed class MsiXTests
{
    private sealed class RecordingSink : IMsiSink
    {
        public List<(int Vector, ulong Address, uint Data)> Routes { get; } = [];
        public List<int> Fired { get; } = [];
        public void Route(int vector, ulong address, uint data) => Routes.Add((vector, address, data));
        public void Fire(int vector) => Fired.Add(vector);
    }

    private readonly PciConfigSpace _config = new(0x1AF4, 0x1042, 0x01, 0x80, 0);
    private readonly RecordingSink _sink = new();
    private readonly MsiX _msix;

    public MsiXTests() => _msix = new MsiX(_config, vectors: 3, tableBar: 2, tableOffset: 0x4000, pbaBar: 2, pbaOffset: 0x6000, _sink);

    private void Control(ushort value)
    {
        _config.Write(_msix.CapabilityOffset + 2, BitConverter.GetBytes(value));
        _msix.SyncControl();
    }

    private const ushort Enable = 0x8000, FunctionMask = 0x4000;

    private void WriteEntry(int vector, int dword, uint value) => _msix.WriteTable((ulong)(vector * 16 + dword * 4), BitConverter.GetBytes(value));

    private void Program(int vector, ulong address, uint data, bool unmask)
    {
        _msix.WriteTable((ulong)(vector * 16), BitConverter.GetBytes(address));
        WriteEntry(vector, 2, data);
        if (unmask) WriteEntry(vector, 3, 0);
    }

    private uint ReadEntry(int vector, int dword)
    {
        var b = new byte[4];
        _msix.ReadTable((ulong)(vector * 16 + dword * 4), b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private ulong Pba()
    {
        var b = new byte[8];
        _msix.ReadPba(0, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    [Fact]
    public void Capability_has_table_size_and_BIR_offsets()
    {
        int cap = _msix.CapabilityOffset;
        Assert.Equal(MsiX.CapabilityId, _config.Get8(cap));
        Assert.Equal(2, _config.Get16(cap + 2) & 0x7FF);          // N - 1
        Assert.Equal(0x4000u | 2, _config.Get32(cap + 4));
        Assert.Equal(0x6000u | 2, _config.Get32(cap + 8));
        Assert.Equal(48, _msix.TableBytes);
        Assert.Equal(8, _msix.PbaBytes);
    }

    [Fact]
    public void Only_enable_and_function_mask_are_writable_in_the_control_word()
    {
        Control(0xFFFF);
        Assert.Equal(0xC002, _config.Get16(_msix.CapabilityOffset + 2));
        Assert.True(_msix.Enabled);
    }

    [Fact]
    public void Vectors_start_masked()
    {
        for (int v = 0; v < 3; v++)
        {
            Assert.True(_msix.IsMasked(v));
            Assert.Equal(1u, ReadEntry(v, 3));
        }
    }

    [Fact]
    public void Table_accepts_dword_and_qword_writes_and_only_the_mask_bit_of_vector_control()
    {
        _msix.WriteTable(16, BitConverter.GetBytes(0x0000_0001_FEE0_1000UL));
        WriteEntry(1, 2, 0x4041);
        WriteEntry(1, 3, 0xFFFF_FFFF);
        Assert.Equal(0xFEE0_1000u, ReadEntry(1, 0));
        Assert.Equal(1u, ReadEntry(1, 1));
        Assert.Equal(0x4041u, ReadEntry(1, 2));
        Assert.Equal(1u, ReadEntry(1, 3));
        var q = new byte[8];
        _msix.ReadTable(16, q);
        Assert.Equal(0x0000_0001_FEE0_1000UL, BinaryPrimitives.ReadUInt64LittleEndian(q));
    }

    [Fact]
    public void Misaligned_or_out_of_table_accesses_are_ignored()
    {
        _msix.WriteTable(2, BitConverter.GetBytes(0xFFFF_FFFFu));
        _msix.WriteTable(48, BitConverter.GetBytes(0xFFFF_FFFFu));
        Assert.Equal(0u, ReadEntry(0, 0));
        var b = new byte[4] { 9, 9, 9, 9 };
        _msix.ReadTable(48, b);
        Assert.Equal(new byte[4], b);
    }

    [Fact]
    public void Unmasking_while_enabled_routes_the_vector()
    {
        Control(Enable);
        Program(1, 0xFEE0_0000, 0x31, unmask: false);
        Assert.Empty(_sink.Routes);
        WriteEntry(1, 3, 0);
        Assert.Equal([(1, 0xFEE0_0000UL, 0x31u)], _sink.Routes);
        // A new message for an unmasked vector routes again.
        WriteEntry(1, 2, 0x32);
        Assert.Equal((1, 0xFEE0_0000UL, 0x32u), _sink.Routes[^1]);
    }

    [Fact]
    public void Enabling_routes_the_vectors_already_unmasked()
    {
        Program(0, 0xFEE0_0000, 0x40, unmask: true);
        Program(2, 0xFEE0_1000, 0x42, unmask: false);
        Assert.Empty(_sink.Routes);
        Control(Enable);
        Assert.Equal([(0, 0xFEE0_0000UL, 0x40u)], _sink.Routes);
    }

    [Fact]
    public void Signal_on_an_unmasked_vector_fires()
    {
        Control(Enable);
        Program(2, 0xFEE0_0000, 0x22, unmask: true);
        _msix.Signal(2);
        Assert.Equal([2], _sink.Fired);
        Assert.Equal(0UL, Pba());
    }

    [Fact]
    public void Signal_while_masked_sets_the_pending_bit_and_unmask_delivers_it()
    {
        Control(Enable);
        Program(1, 0xFEE0_0000, 0x21, unmask: false);
        _msix.Signal(1);
        Assert.Empty(_sink.Fired);
        Assert.Equal(0b010UL, Pba());
        WriteEntry(1, 3, 0);
        Assert.Equal([1], _sink.Fired);
        Assert.Equal(0UL, Pba());
    }

    [Fact]
    public void Function_mask_holds_everything_pending_until_cleared()
    {
        Control(Enable | FunctionMask);
        Program(0, 0xFEE0_0000, 0x20, unmask: true);
        _msix.Signal(0);
        Assert.Empty(_sink.Fired);
        Assert.Equal(1UL, Pba());
        Control(Enable);
        Assert.Equal([0], _sink.Fired);
        Assert.Equal(0UL, Pba());
    }

    [Fact]
    public void Signals_while_MSI_X_is_disabled_are_dropped()
    {
        Program(0, 0xFEE0_0000, 0x20, unmask: true);
        _msix.Signal(0);
        Assert.Equal(0UL, Pba());
        Control(Enable);
        Assert.Empty(_sink.Fired);
    }

    [Fact]
    public void NoVector_and_out_of_range_vectors_are_ignored()
    {
        Control(Enable);
        for (int v = 0; v < 3; v++) Program(v, 0xFEE0_0000, (uint)v, unmask: true);
        _msix.Signal(MsiX.NoVector);
        _msix.Signal(3);
        _msix.Signal(-1);
        Assert.Empty(_sink.Fired);
        Assert.Equal(0UL, Pba());
    }

    [Fact]
    public void Vector_counts_outside_1_to_2048_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MsiX(new PciConfigSpace(1, 2, 0, 0, 0), 0, 0, 0, 0, 0, _sink));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MsiX(new PciConfigSpace(1, 2, 0, 0, 0), 2049, 0, 0, 0, 0, _sink));
    }
}
