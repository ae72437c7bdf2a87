using System.Buffers.Binary;
using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Os;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>The modern virtio-pci transport (B2, B3): capabilities, negotiation, queue registers, status machine, doorbells.</summary>
public sealed class VirtioPciTransportTests : IDisposable
{
    private sealed class FakeDevice : IVirtioDevice
    {
        public ushort DeviceType => 2;
        public ulong DeviceFeatures => 1UL << VirtioFeatures.Version1 | 1UL << VirtioFeatures.EventIdx | 1;
        public int QueueCount => 2;
        public ushort MaxQueueSize => 64;
        public int ConfigSize => 8;
        public List<VirtioActivation> Activations { get; } = [];
        public int Resets;
        public Func<byte>? StatusDuringReset;
        public byte SeenStatusAtReset;
        public void ReadConfig(int offset, Span<byte> data) { for (int i = 0; i < data.Length; i++) data[i] = (byte)(0x60 + offset + i); }
        public void WriteConfig(int offset, ReadOnlySpan<byte> data) { }
        public void Activate(VirtioActivation activation) => Activations.Add(activation);
        public void Reset() { Resets++; SeenStatusAtReset = StatusDuringReset?.Invoke() ?? 0; }
    }

    private sealed class FakeBinder : IDoorbellBinder
    {
        public List<(ulong Address, uint Length, EventFd Target)> Bound { get; } = [];
        public void Bind(ulong address, uint length, EventFd target) => Bound.Add((address, length, target));
        public void Unbind(ulong address, uint length, EventFd target) => Bound.RemoveAll(b => b.Address == address && b.Target == target);
    }

    private sealed class NullSink : IMsiSink
    {
        public void Route(int vector, ulong address, uint data) { }
        public void Fire(int vector) { }
    }

    private readonly FakeRam _ram = FakeVirtqDriver.NewRam();
    private readonly IoBus _mmio = new("mmio");
    private readonly FakeDevice _device = new();
    private readonly FakeBinder _binder = new();
    private readonly VirtioPciTransport _t;
    private readonly ulong _bar;

    public VirtioPciTransportTests()
    {
        _t = new VirtioPciTransport(_device, _ram.Memory, new NullSink(), _binder);
        new PciRoot(_mmio).Attach(1, _t);
        _t.ConfigWrite(PciConfigSpace.Command, BitConverter.GetBytes(PciConfigSpace.CommandMemory));
        _bar = _t.BarAddress(0);
        _device.StatusDuringReset = () => _t.Status;
    }

    public void Dispose() => _ram.Dispose();

    private ulong Read(uint offset, int length)
    {
        var b = new byte[8];
        Assert.True(_mmio.Read(_bar + offset, b.AsSpan(0, length)));
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    private void Write(uint offset, ulong value, int length)
    {
        var b = BitConverter.GetBytes(value);
        Assert.True(_mmio.Write(_bar + offset, b.AsSpan(0, length)));
    }

    private void SetStatus(byte s) => Write(0x14, s, 1);
    private byte Status => (byte)Read(0x14, 1);

    private void Negotiate(ulong features)
    {
        SetStatus(VirtioPciTransport.StatusAcknowledge | VirtioPciTransport.StatusDriver);
        Write(0x08, 0, 4); Write(0x0C, (uint)features, 4);
        Write(0x08, 1, 4); Write(0x0C, features >> 32, 4);
        SetStatus(VirtioPciTransport.StatusAcknowledge | VirtioPciTransport.StatusDriver | VirtioPciTransport.StatusFeaturesOk);
    }

    private void SetupQueue(ushort index, ushort size)
    {
        Write(0x16, index, 2);
        Write(0x18, size, 2);
        Write(0x20, FakeVirtqDriver.DescAt, 8);
        Write(0x28, FakeVirtqDriver.AvailAt, 4);
        Write(0x2C, 0, 4);
        Write(0x30, FakeVirtqDriver.UsedAt, 8);
        Write(0x1C, 1, 2);
    }

    private byte[] ConfigBytes(int offset, int length)
    {
        var b = new byte[length];
        _t.ConfigRead(offset, b);
        return b;
    }

    [Fact]
    public void Identity_is_modern_virtio_blk()
    {
        Assert.Equal(0x1042_1AF4u, BinaryPrimitives.ReadUInt32LittleEndian(ConfigBytes(0, 4)));
        Assert.Equal(1, ConfigBytes(PciConfigSpace.RevisionId, 1)[0]);
        Assert.True(BinaryPrimitives.ReadUInt16LittleEndian(ConfigBytes(PciConfigSpace.SubsystemId, 2)) >= 0x40);
    }

    [Fact]
    public void Capability_list_has_the_five_virtio_structures_and_MSI_X()
    {
        var found = new Dictionary<int, (uint Offset, uint Length, int At)>();
        bool msix = false;
        int at = ConfigBytes(PciConfigSpace.CapabilitiesPointer, 1)[0];
        for (int guard = 0; at != 0 && guard < 32; guard++)
        {
            var cap = ConfigBytes(at, 20);
            if (cap[0] == 0x09)
            {
                Assert.Equal(0, cap[4]); // BAR 0
                found[cap[3]] = (BinaryPrimitives.ReadUInt32LittleEndian(cap.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(cap.AsSpan(12)), at);
            }
            msix |= cap[0] == MsiX.CapabilityId;
            at = cap[1];
        }
        Assert.True(msix);
        Assert.Equal([1, 2, 3, 4, 5], found.Keys.Order());
        Assert.Equal((VirtioPciTransport.CommonOffset, 0x40u), (found[1].Offset, found[1].Length));
        Assert.Equal((VirtioPciTransport.NotifyOffset, 2u * VirtioPciTransport.NotifyMultiplier), (found[2].Offset, found[2].Length));
        Assert.Equal(VirtioPciTransport.NotifyMultiplier, BinaryPrimitives.ReadUInt32LittleEndian(ConfigBytes(found[2].At + 16, 4)));
        Assert.Equal(VirtioPciTransport.IsrOffset, found[3].Offset);
        Assert.Equal((VirtioPciTransport.DeviceOffset, 8u), (found[4].Offset, found[4].Length));
    }

    [Fact]
    public void Device_features_are_shown_32_bits_at_a_time_and_zero_beyond()
    {
        Write(0x00, 0, 4);
        Assert.Equal((ulong)(uint)_device.DeviceFeatures, Read(0x04, 4));
        Write(0x00, 1, 4);
        Assert.Equal(1UL, Read(0x04, 4));
        Write(0x00, 2, 4);
        Assert.Equal(0UL, Read(0x04, 4));
    }

    [Fact]
    public void FEATURES_OK_sticks_for_an_acceptable_subset()
    {
        Negotiate(1UL << VirtioFeatures.Version1 | 1);
        Assert.NotEqual(0, Status & VirtioPciTransport.StatusFeaturesOk);
    }

    [Theory]
    [InlineData(1UL << VirtioFeatures.Version1 | 1UL << 40)] // beyond the offer
    [InlineData(1UL)]                                          // no VERSION_1
    public void FEATURES_OK_does_not_stick_for_unacceptable_features(ulong features)
    {
        Negotiate(features);
        Assert.Equal(0, Status & VirtioPciTransport.StatusFeaturesOk);
    }

    [Fact]
    public void Queue_size_reads_the_maximum_and_is_frozen_once_enabled()
    {
        Write(0x16, 1, 2);
        Assert.Equal(64UL, Read(0x18, 2));
        Assert.Equal(1UL, Read(0x1E, 2));   // queue_notify_off = index
        SetupQueue(1, 16);
        Write(0x18, 32, 2);
        Write(0x20, 0x1234_0000, 8);
        Assert.Equal(16UL, Read(0x18, 2));
        Assert.Equal(FakeVirtqDriver.DescAt, Read(0x20, 8));
        Assert.Equal(1UL, Read(0x1C, 2));
    }

    [Fact]
    public void A_queue_select_past_the_last_queue_reads_size_zero()
    {
        Write(0x16, 7, 2);
        Assert.Equal(0UL, Read(0x18, 2));
        Assert.Equal(2UL, Read(0x12, 2)); // num_queues
    }

    [Fact]
    public void Vectors_beyond_the_MSI_X_table_read_NO_VECTOR()
    {
        Write(0x10, 2, 2);            // 3 vectors (2 queues + config): 2 is valid
        Assert.Equal(2UL, Read(0x10, 2));
        Write(0x10, 3, 2);
        Assert.Equal((ulong)MsiX.NoVector, Read(0x10, 2));
        Write(0x16, 0, 2);
        Write(0x1A, 100, 2);
        Assert.Equal((ulong)MsiX.NoVector, Read(0x1A, 2));
    }

    [Fact]
    public void DRIVER_OK_activates_the_enabled_queues_with_the_negotiated_features()
    {
        Negotiate(1UL << VirtioFeatures.Version1 | 1UL << VirtioFeatures.EventIdx);
        SetupQueue(0, 16);
        SetStatus(1 | 2 | 8 | 4);
        var a = Assert.Single(_device.Activations);
        Assert.True(a.Has(VirtioFeatures.EventIdx));
        Assert.NotNull(a.Queues[0]);
        Assert.Equal(16, a.Queues[0]!.Size);
        Assert.True(a.Queues[0]!.EventIdx);
        Assert.Null(a.Queues[1]);
        Assert.Equal(15, Status);
    }

    [Fact]
    public void DRIVER_OK_without_FEATURES_OK_does_not_activate()
    {
        SetStatus(1 | 2 | 4);
        Assert.Empty(_device.Activations);
    }

    [Fact]
    public void A_ring_outside_RAM_at_DRIVER_OK_needs_a_reset_instead_of_activating()
    {
        Negotiate(1UL << VirtioFeatures.Version1);
        Write(0x16, 0, 2);
        Write(0x20, 0x10, 8); // below RAM
        Write(0x1C, 1, 2);
        SetStatus(1 | 2 | 8 | 4);
        Assert.Empty(_device.Activations);
        Assert.NotEqual(0, Status & VirtioPciTransport.StatusNeedsReset);
        Assert.Equal(2UL, Read(VirtioPciTransport.IsrOffset, 1));
    }

    [Fact]
    public void Writing_status_zero_resets_the_device_before_the_registers_clear()
    {
        Negotiate(1UL << VirtioFeatures.Version1);
        SetupQueue(0, 16);
        Write(0x10, 1, 2);
        SetStatus(15);
        SetStatus(0);
        Assert.Equal(1, _device.Resets);
        Assert.NotEqual(0, _device.SeenStatusAtReset); // status still showed the old value while draining
        Assert.Equal(0, Status);
        Write(0x16, 0, 2);
        Assert.Equal((64UL, 0UL), (Read(0x18, 2), Read(0x1C, 2)));
        Assert.Equal((ulong)MsiX.NoVector, Read(0x10, 2));
        Write(0x08, 0, 4);
        Assert.Equal(0UL, Read(0x0C, 4));
    }

    [Fact]
    public void Needs_reset_from_the_device_sets_the_status_bit_and_the_config_ISR_bit()
    {
        Negotiate(1UL << VirtioFeatures.Version1);
        SetupQueue(0, 16);
        SetStatus(15);
        _device.Activations[0].NeedsReset("test corruption");
        Assert.NotEqual(0, Status & VirtioPciTransport.StatusNeedsReset);
        Assert.Equal("test corruption", _t.LastError);
        Assert.Equal(2UL, Read(VirtioPciTransport.IsrOffset, 1));
    }

    [Fact]
    public void ISR_is_read_to_clear()
    {
        _t.Queue(0);
        Assert.Equal(1UL, Read(VirtioPciTransport.IsrOffset, 1));
        Assert.Equal(0UL, Read(VirtioPciTransport.IsrOffset, 1));
    }

    [Fact]
    public void Device_config_is_read_through_BAR0()
    {
        Assert.Equal(0x63_62_61_60UL, Read(VirtioPciTransport.DeviceOffset, 4));
        Assert.Equal(0x67UL, Read(VirtioPciTransport.DeviceOffset + 7, 1));
        Assert.Equal(0UL, Read(VirtioPciTransport.DeviceOffset + 6, 4)); // straddles the end: not served
    }

    [Fact]
    public void Doorbells_are_bound_while_BAR0_is_mapped_and_follow_it()
    {
        Assert.Equal(2, _binder.Bound.Count);
        Assert.Contains(_binder.Bound, b => b.Address == _bar + VirtioPciTransport.NotifyOffset && b.Length == 2);
        Assert.Contains(_binder.Bound, b => b.Address == _bar + VirtioPciTransport.NotifyOffset + VirtioPciTransport.NotifyMultiplier);

        _t.ConfigWrite(PciConfigSpace.Bar0, BitConverter.GetBytes(0xD000_0000u));
        Assert.Equal(2, _binder.Bound.Count);
        Assert.All(_binder.Bound, b => Assert.InRange(b.Address, 0xD000_3000UL, 0xD000_3007UL));

        _t.ConfigWrite(PciConfigSpace.Command, BitConverter.GetBytes((ushort)0));
        Assert.Empty(_binder.Bound);
    }

    [Fact]
    public void A_trapped_notify_write_signals_the_queue_eventfd()
    {
        var q1 = _binder.Bound.Single(b => b.Address == _bar + VirtioPciTransport.NotifyOffset + 4).Target;
        Write(VirtioPciTransport.NotifyOffset + 4, 1, 4); // a width KVM's 2-byte ioeventfd would not catch
        Assert.Equal(1UL, q1.Drain());
        Assert.Equal(0UL, _binder.Bound.Single(b => b.Address == _bar + VirtioPciTransport.NotifyOffset).Target.Drain());
    }

    [Fact]
    public void PCI_CFG_window_reads_and_writes_BAR0_registers()
    {
        int cap = 0;
        int at = ConfigBytes(PciConfigSpace.CapabilitiesPointer, 1)[0];
        while (at != 0)
        {
            var c = ConfigBytes(at, 4);
            if (c[0] == 0x09 && c[3] == 5) cap = at;
            at = c[1];
        }
        Assert.NotEqual(0, cap);
        // Point the window at queue_select (2 bytes), write 1 through it, read num_queues (2 bytes) through it.
        _t.ConfigWrite(cap + 4, [0]);
        _t.ConfigWrite(cap + 8, BitConverter.GetBytes(0x16u));
        _t.ConfigWrite(cap + 12, BitConverter.GetBytes(2u));
        _t.ConfigWrite(cap + 16, BitConverter.GetBytes((ushort)1));
        Assert.Equal(1UL, Read(0x16, 2));
        _t.ConfigWrite(cap + 8, BitConverter.GetBytes(0x12u));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(ConfigBytes(cap + 16, 2)));
        // A width other than the programmed length reads zero.
        Assert.Equal(new byte[4], ConfigBytes(cap + 16, 4));
    }
}
