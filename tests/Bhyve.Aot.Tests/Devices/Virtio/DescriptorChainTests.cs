using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>DescriptorChain.Walk: well-formed chains give their segments; every malformed form gives its own ChainError (device-semantics B8).</summary>
public sealed unsafe class DescriptorChainTests : IDisposable
{
    private const ushort N = SplitVirtqueue.DescNext, W = SplitVirtqueue.DescWrite, I = SplitVirtqueue.DescIndirect;
    private const ushort Size = 16;
    private readonly FakeRam _ram = FakeVirtqDriver.NewRam();
    private readonly FakeVirtqDriver _d;
    private readonly SplitVirtqueue _q;
    private readonly ChainSegment[] _segments = new ChainSegment[64];

    public DescriptorChainTests()
    {
        _d = new FakeVirtqDriver(_ram, Size);
        _q = _d.CreateQueue(eventIdx: false);
    }

    public void Dispose() => _ram.Dispose();

    private ChainError Walk(ushort head, out int count, out ulong total, bool indirect = true, int maxSegments = 64) =>
        DescriptorChain.Walk(_q, _ram.Memory, head, indirect, _segments.AsSpan(0, maxSegments), out count, out total);

    private ChainError Walk(ushort head, bool indirect = true) => Walk(head, out _, out _, indirect);

    [Fact]
    public void Direct_chain_yields_segments_in_order_with_host_pointers()
    {
        ulong a = _d.Alloc(16), b = _d.Alloc(512), c = _d.Alloc(1);
        _d.SetDesc(3, a, 16, N, 7);
        _d.SetDesc(7, b, 512, N | W, 1);
        _d.SetDesc(1, c, 1, W);

        Assert.Equal(ChainError.None, Walk(3, out int count, out ulong total));
        Assert.Equal(3, count);
        Assert.Equal(529UL, total);
        Assert.True(_segments[0].Host == _d.Host(a) && _segments[0].Length == 16 && !_segments[0].Writable);
        Assert.True(_segments[1].Host == _d.Host(b) && _segments[1].Length == 512 && _segments[1].Writable);
        Assert.True(_segments[2].Host == _d.Host(c) && _segments[2].Length == 1 && _segments[2].Writable);
    }

    [Fact]
    public void Indirect_table_is_followed()
    {
        ulong table = _d.Alloc(3 * 16), a = _d.Alloc(16), b = _d.Alloc(4096), c = _d.Alloc(1);
        _d.SetIndirect(table, 0, a, 16, N, 2);
        _d.SetIndirect(table, 2, b, 4096, N | W, 1);
        _d.SetIndirect(table, 1, c, 1, W);
        _d.SetDesc(5, table, 3 * 16, I);

        Assert.Equal(ChainError.None, Walk(5, out int count, out ulong total));
        Assert.Equal(3, count);
        Assert.Equal(4113UL, total);
        Assert.True(_segments[1].Host == _d.Host(b) && _segments[1].Writable);
    }

    [Fact]
    public void Direct_descriptors_then_an_indirect_one_are_accepted()
    {
        // The spec allows zero or more direct descriptors followed by one indirect descriptor.
        ulong hdr = _d.Alloc(16), table = _d.Alloc(2 * 16), data = _d.Alloc(512), status = _d.Alloc(1);
        _d.SetIndirect(table, 0, data, 512, N | W, 1);
        _d.SetIndirect(table, 1, status, 1, W);
        _d.SetDesc(0, hdr, 16, N, 9);
        _d.SetDesc(9, table, 32, I);

        Assert.Equal(ChainError.None, Walk(0, out int count, out ulong total));
        Assert.Equal(3, count);
        Assert.Equal(529UL, total);
        Assert.True(_segments[0].Host == _d.Host(hdr) && _segments[2].Host == _d.Host(status));
    }

    [Fact]
    public void A_chain_using_every_descriptor_exactly_once_is_not_a_loop()
    {
        ulong buf = _d.Alloc(16);
        for (int i = 0; i < Size; i++) _d.SetDesc(i, buf, 16, i == Size - 1 ? (ushort)0 : N, (ushort)(i + 1));
        Assert.Equal(ChainError.None, Walk(0, out int count, out _));
        Assert.Equal(Size, count);
    }

    [Fact]
    public void Next_out_of_range_in_the_descriptor_table()
    {
        _d.SetDesc(0, _d.Alloc(16), 16, N, Size);
        Assert.Equal(ChainError.NextOutOfRange, Walk(0));
    }

    [Fact]
    public void Next_out_of_range_in_an_indirect_table()
    {
        // Index 3 exists in the main table (size 16) but not in this 3-entry indirect table.
        ulong table = _d.Alloc(3 * 16);
        _d.SetIndirect(table, 0, _d.Alloc(16), 16, N, 3);
        _d.SetDesc(0, table, 48, I);
        Assert.Equal(ChainError.NextOutOfRange, Walk(0));
    }

    [Fact]
    public void A_loop_in_the_descriptor_table()
    {
        ulong buf = _d.Alloc(16);
        _d.SetDesc(0, buf, 16, N, 1);
        _d.SetDesc(1, buf, 16, N, 0);
        Assert.Equal(ChainError.Loop, Walk(0));
    }

    [Fact]
    public void A_self_loop_in_an_indirect_table()
    {
        ulong table = _d.Alloc(2 * 16), buf = _d.Alloc(16);
        _d.SetIndirect(table, 0, buf, 16, N, 1);
        _d.SetIndirect(table, 1, buf, 16, N, 1);
        _d.SetDesc(0, table, 32, I);
        Assert.Equal(ChainError.Loop, Walk(0));
    }

    [Fact]
    public void Indirect_without_the_feature()
    {
        ulong table = _d.Alloc(16);
        _d.SetIndirect(table, 0, _d.Alloc(16), 16, 0);
        _d.SetDesc(0, table, 16, I);
        Assert.Equal(ChainError.IndirectNotNegotiated, Walk(0, indirect: false));
        Assert.Equal(ChainError.None, Walk(0, indirect: true));
    }

    [Fact]
    public void Indirect_with_next()
    {
        ulong table = _d.Alloc(16);
        _d.SetIndirect(table, 0, _d.Alloc(16), 16, 0);
        _d.SetDesc(0, table, 16, I | N, 1);
        _d.SetDesc(1, _d.Alloc(1), 1, W);
        Assert.Equal(ChainError.IndirectWithNext, Walk(0));
    }

    [Fact]
    public void Nested_indirect()
    {
        ulong inner = _d.Alloc(16), outer = _d.Alloc(16);
        _d.SetIndirect(inner, 0, _d.Alloc(16), 16, 0);
        _d.SetIndirect(outer, 0, inner, 16, I);
        _d.SetDesc(0, outer, 16, I);
        Assert.Equal(ChainError.NestedIndirect, Walk(0));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(8u)]
    [InlineData(17u)]
    [InlineData(40u)]
    public void Indirect_table_size_zero_or_not_a_multiple_of_16(uint length)
    {
        ulong table = _d.Alloc(64);
        _d.SetDesc(0, table, length, I);
        Assert.Equal(ChainError.IndirectBadSize, Walk(0));
    }

    [Theory]
    [InlineData(0x1000UL, 16u)]                                        // below RAM
    [InlineData(FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize - 16, 32u)] // straddles the end of RAM
    [InlineData(ulong.MaxValue - 15, 32u)]                               // wraps 2^64
    public void Indirect_table_outside_RAM(ulong address, uint length)
    {
        _d.SetDesc(0, address, length, I);
        Assert.Equal(ChainError.IndirectOutsideRam, Walk(0));
    }

    [Fact]
    public void Readable_after_writable()
    {
        _d.SetDesc(0, _d.Alloc(16), 16, N | W, 1);
        _d.SetDesc(1, _d.Alloc(16), 16, 0);
        Assert.Equal(ChainError.ReadableAfterWritable, Walk(0));
    }

    [Fact]
    public void Readable_in_an_indirect_table_after_a_writable_direct_descriptor()
    {
        // Direction order holds across the switch from the main table into the indirect one.
        ulong table = _d.Alloc(16);
        _d.SetIndirect(table, 0, _d.Alloc(16), 16, 0);
        _d.SetDesc(0, _d.Alloc(16), 16, N | W, 1);
        _d.SetDesc(1, table, 16, I);
        Assert.Equal(ChainError.ReadableAfterWritable, Walk(0));
    }

    [Fact]
    public void Zero_length_buffer()
    {
        _d.SetDesc(0, _d.Alloc(16), 16, N, 1);
        _d.SetDesc(1, _d.Alloc(16), 0, W);
        Assert.Equal(ChainError.ZeroLength, Walk(0));
    }

    [Theory]
    [InlineData(0UL, 16u)]
    [InlineData(FakeVirtqDriver.RamBase - 8, 16u)]
    [InlineData(FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize - 8, 16u)]
    [InlineData(FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize, 1u)]
    [InlineData(ulong.MaxValue - 7, 16u)]
    [InlineData(FakeVirtqDriver.RamBase, uint.MaxValue)]
    public void Buffer_outside_RAM_or_wrapping(ulong address, uint length)
    {
        _d.SetDesc(0, address, length, W);
        Assert.Equal(ChainError.OutsideRam, Walk(0));
    }

    [Fact]
    public void Buffer_ending_exactly_at_the_end_of_RAM_is_fine()
    {
        _d.SetDesc(0, FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize - 16, 16, W);
        Assert.Equal(ChainError.None, Walk(0));
    }

    [Fact]
    public void More_segments_than_the_caller_takes()
    {
        ulong buf = _d.Alloc(16);
        for (int i = 0; i < 5; i++) _d.SetDesc(i, buf, 16, i == 4 ? (ushort)0 : N, (ushort)(i + 1));
        Assert.Equal(ChainError.TooManySegments, Walk(0, out _, out _, maxSegments: 4));
        Assert.Equal(ChainError.None, Walk(0, out int count, out _, maxSegments: 5));
        Assert.Equal(5, count);
    }

    [Fact]
    public void Total_length_over_4_GiB()
    {
        // Two 2 GiB buffers need real (lazily zeroed, so untouched) RAM: calloc maps it without touching it.
        using var big = new FakeRam(3UL << 30, FakeVirtqDriver.RamBase);
        var d = new FakeVirtqDriver(big, Size);
        var q = d.CreateQueue(eventIdx: false);
        d.SetDesc(0, FakeVirtqDriver.RamBase, (uint)(2UL << 30), N, 1);
        d.SetDesc(1, FakeVirtqDriver.RamBase, (uint)(2UL << 30) + 512, W);
        Assert.Equal(ChainError.TooLong, DescriptorChain.Walk(q, big.Memory, 0, true, _segments, out _, out _));
        d.SetDesc(1, FakeVirtqDriver.RamBase, (uint)(2UL << 30) - 1, W);
        Assert.Equal(ChainError.None, DescriptorChain.Walk(q, big.Memory, 0, true, _segments, out _, out ulong total));
        Assert.Equal(uint.MaxValue, total);
    }
}
