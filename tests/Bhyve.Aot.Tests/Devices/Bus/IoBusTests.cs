using Bhyve.Aot.Devices.Bus;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Bus;

/// <summary>IoBus dispatch: the right device, base-relative offsets, whole-access containment, all-ones for nothing.</summary>
public class IoBusTests
{
    private readonly IoBus _bus = new("port");
    private readonly RecordingDevice _uart = new("uart"), _exit = new("exit");

    public IoBusTests()
    {
        _bus.Register(0x3F8, 8, _uart);
        _bus.Register(0x501, 1, _exit);
    }

    [Fact]
    public void Writes_reach_the_device_at_a_base_relative_offset()
    {
        Assert.True(_bus.Write(0x3FB, [0x83]));
        Assert.True(_bus.Write(0x501, [0x07]));
        var w = Assert.Single(_uart.Accesses);
        Assert.True(w.Write);
        Assert.Equal(3UL, w.Offset);
        Assert.Equal([0x83], w.Data);
        var x = Assert.Single(_exit.Accesses);
        Assert.Equal(0UL, x.Offset);
        Assert.Equal([0x07], x.Data);
        Assert.Equal(0, _bus.UnhandledAccesses);
    }

    [Fact]
    public void Reads_return_what_the_device_wrote_into_the_buffer()
    {
        Span<byte> data = stackalloc byte[4];
        Assert.True(_bus.Read(0x3FC, data));
        for (int i = 0; i < 4; i++) Assert.Equal(RecordingDevice.ReadValue(4, i), data[i]);
        Assert.Equal(4UL, Assert.Single(_uart.Accesses).Offset);
    }

    [Theory]
    [InlineData(0x3FFUL, 1, true)]     // last port of the range
    [InlineData(0x3FEUL, 2, true)]     // ends exactly at the range end
    [InlineData(0x3FCUL, 4, true)]
    [InlineData(0x3FFUL, 2, false)]    // straddles the end
    [InlineData(0x3FDUL, 4, false)]
    [InlineData(0x3F7UL, 2, false)]    // starts before the range
    [InlineData(0x400UL, 1, false)]    // just past it
    [InlineData(0x500UL, 2, false)]    // straddles into the 1-byte range
    [InlineData(0x501UL, 2, false)]    // wider than the 1-byte range
    [InlineData(0UL, 1, false)]
    public void Only_accesses_wholly_inside_one_range_are_dispatched(ulong address, int size, bool handled)
    {
        var data = new byte[size];
        Assert.Equal(handled, _bus.Read(address, data));
        Assert.Equal(handled, _bus.Write(address, data));
        Assert.Equal(handled ? 0 : 2, _bus.UnhandledAccesses);
        if (!handled)
        {
            Assert.Empty(_uart.Accesses);
            Assert.Empty(_exit.Accesses);
        }
    }

    [Fact]
    public void Unhandled_reads_fill_the_whole_buffer_with_ones()
    {
        byte[] data = [1, 2, 3, 4];
        Assert.False(_bus.Read(0x3FE, data));
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], data);
        Assert.Equal(1, _bus.UnhandledAccesses);
    }

    [Theory]
    [InlineData(0x3F8UL, 8UL)]   // identical
    [InlineData(0x3FFUL, 1UL)]   // last byte
    [InlineData(0x3F0UL, 9UL)]   // reaches the first byte
    [InlineData(0x3F0UL, 0x20UL)] // covers it
    [InlineData(0x3FAUL, 2UL)]   // inside
    [InlineData(0x501UL, 1UL)]
    public void Overlapping_registration_throws_and_changes_nothing(ulong baseAddress, ulong length)
    {
        var other = new RecordingDevice("other");
        Assert.Throws<InvalidOperationException>(() => _bus.Register(baseAddress, length, other));
        Assert.True(_bus.TryFind(0x3F8, 1, out var d, out _));
        Assert.Same(_uart, d);
    }

    [Fact]
    public void Adjacent_ranges_are_fine_and_each_gets_its_own_accesses()
    {
        var below = new RecordingDevice("below");
        var above = new RecordingDevice("above");
        _bus.Register(0x3F0, 8, below);
        _bus.Register(0x400, 1, above);
        Assert.True(_bus.TryFind(0x3F7, 1, out var d1, out ulong o1));
        Assert.True(_bus.TryFind(0x3F8, 1, out var d2, out ulong o2));
        Assert.True(_bus.TryFind(0x400, 1, out var d3, out ulong o3));
        Assert.Same(below, d1);
        Assert.Equal(7UL, o1);
        Assert.Same(_uart, d2);
        Assert.Equal(0UL, o2);
        Assert.Same(above, d3);
        Assert.Equal(0UL, o3);
        // An access spanning two adjacent devices belongs to neither.
        Assert.False(_bus.TryFind(0x3F7, 2, out _, out _));
    }

    [Theory]
    [InlineData(0x1000UL, 0UL)]
    [InlineData(ulong.MaxValue, 2UL)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0, 0x11UL)]
    public void Empty_or_wrapping_ranges_are_refused(ulong baseAddress, ulong length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _bus.Register(baseAddress, length, new RecordingDevice()));
    }

    [Fact]
    public void A_range_may_end_at_the_top_of_the_address_space()
    {
        var mmio = new IoBus("MMIO");
        var top = new RecordingDevice("top");
        mmio.Register(0xFFFF_FFFF_FFFF_FFF0, 0x10, top);
        Assert.True(mmio.TryFind(ulong.MaxValue, 1, out var d, out ulong offset));
        Assert.Same(top, d);
        Assert.Equal(0xFUL, offset);
        Assert.True(mmio.TryFind(0xFFFF_FFFF_FFFF_FFF8, 8, out _, out _));
        Assert.False(mmio.TryFind(0xFFFF_FFFF_FFFF_FFFC, 8, out _, out _));
    }

    [Fact]
    public void Unregister_removes_only_the_matching_device_and_range()
    {
        _bus.Unregister(_exit, 0x3F8);          // wrong base: no effect
        _bus.Unregister(_uart, 0x3F9);          // not the base: no effect
        _bus.Unregister(new RecordingDevice(), 0x3F8); // another device: no effect
        Assert.True(_bus.TryFind(0x3F8, 1, out _, out _));

        _bus.Unregister(_uart, 0x3F8);
        Assert.False(_bus.Write(0x3F8, [1]));
        Assert.Empty(_uart.Accesses);
        Assert.True(_bus.TryFind(0x501, 1, out _, out _));

        // The range is free again (a BAR move registers the same device elsewhere, then here again).
        var replacement = new RecordingDevice();
        _bus.Register(0x3F8, 8, replacement);
        Assert.True(_bus.Write(0x3F9, [2]));
        Assert.Single(replacement.Accesses);
    }

    [Fact]
    public void An_empty_bus_handles_nothing()
    {
        var empty = new IoBus("empty");
        Assert.False(empty.Write(0, [0]));
        Assert.False(empty.TryFind(0, 1, out var d, out _));
        Assert.Null(d);
        Assert.Equal(1, empty.UnhandledAccesses);
        Assert.Equal("empty", empty.Name);
    }
}
