using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>
/// ChainReader and ChainWriter over 7 GiB of sparse guest RAM: segments at odd offsets, lengths near and above 2^31,
/// totals above 2^32. Segments are translated from guest addresses the way DescriptorChain.Walk makes them.
/// </summary>
public sealed unsafe class ChainReaderWriterTests : IDisposable
{
    private const ulong Base = 0x10_0000;
    private readonly FakeRam _ram = new(7UL << 30, Base);

    public void Dispose() => _ram.Dispose();

    private ChainSegment Segment(ulong guest, uint length, bool writable)
    {
        Assert.True(_ram.Memory.TryTranslate(guest, length, out byte* host));
        return new ChainSegment { Host = host, Length = length, Writable = writable };
    }

    private Span<byte> Bytes(ulong guest, int length) => _ram.HostSpan(guest - Base, length);

    [Fact]
    public void Reader_gathers_bytes_split_at_odd_offsets_and_stops_at_the_first_writable_segment()
    {
        uint[] lengths = [3, 1, 7, 5];
        var segments = new ChainSegment[lengths.Length + 1];
        ulong at = Base + 0x1001;
        byte next = 1;
        for (int i = 0; i < lengths.Length; i++)
        {
            for (int b = 0; b < lengths[i]; b++) Bytes(at, (int)lengths[i])[b] = next++;
            segments[i] = Segment(at, lengths[i], writable: false);
            at += lengths[i] + 13; // gaps between buffers
        }
        segments[^1] = Segment(at, 100, writable: true);

        var reader = new ChainReader(segments);
        Assert.Equal(16UL, reader.Remaining);
        Span<byte> header = stackalloc byte[10];
        Assert.Equal(10, reader.Read(header));
        Assert.Equal(Enumerable.Range(1, 10).Select(x => (byte)x), header.ToArray());
        Span<byte> rest = stackalloc byte[10];
        Assert.Equal(6, reader.Read(rest)); // only 6 readable bytes remain; the writable segment is not read
        Assert.Equal(Enumerable.Range(11, 6).Select(x => (byte)x), rest[..6].ToArray());
        Assert.Equal(0UL, reader.Remaining);
        Assert.Equal(0, reader.Read(rest));
    }

    [Fact]
    public void Reader_skips_past_2_to_the_32_across_segments()
    {
        ulong first = Base + 0x1000, second = first + 0xFFFF_FFFFUL + 0x1001;
        var segments = new[] { Segment(first, 0xFFFF_FFFF, false), Segment(second, 0x8000_0001, false) };
        Bytes(second + 1, 4)[0] = 0xAB;
        Bytes(second + 1, 4)[3] = 0xCD;

        var reader = new ChainReader(segments);
        Assert.Equal(0xFFFF_FFFFUL + 0x8000_0001UL, reader.Remaining); // 0x1_8000_0000: above 2^32
        Assert.Equal(1UL << 32, reader.Skip(1UL << 32));
        Span<byte> four = stackalloc byte[4];
        Assert.Equal(4, reader.Read(four));
        Assert.Equal(0xAB, four[0]);
        Assert.Equal(0xCD, four[3]);
        Assert.Equal(0x8000_0000UL - 4, reader.Remaining);
        Assert.Equal(0x8000_0000UL - 4, reader.Skip(ulong.MaxValue)); // clamps, never wraps
        Assert.Equal(0UL, reader.Remaining);
    }

    [Fact]
    public void Writer_writes_the_writable_segments_up_to_its_limit_and_keeps_the_status_byte()
    {
        ulong a = Base + 0x2003, b = Base + 0x3007;
        var segments = new[] { Segment(Base + 0x1000, 16, false), Segment(a, 5, true), Segment(b, 6, true) };
        var writer = new ChainWriter(segments, limit: 5 + 6 - 1);
        Assert.Equal(10UL, writer.Capacity);
        byte[] data = Enumerable.Range(1, 20).Select(x => (byte)x).ToArray();
        Assert.Equal(10, writer.Write(data));
        Assert.Equal(10UL, writer.Written);
        Assert.Equal(0, writer.Write(data));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, Bytes(a, 5).ToArray());
        Assert.Equal(new byte[] { 6, 7, 8, 9, 10, 0 }, Bytes(b, 6).ToArray()); // the last byte (status) untouched
    }

    [Theory]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Writer_into_a_buffer_near_and_above_2_to_the_31_writes_only_what_it_is_given(uint length)
    {
        ulong at = Base + 0x1001;
        var writer = new ChainWriter([Segment(at, length, true)]);
        Assert.Equal((ulong)length, writer.Remaining);
        Assert.Equal(20, writer.Write(Enumerable.Range(1, 20).Select(x => (byte)x).ToArray()));
        Assert.Equal((ulong)length - 20, writer.Remaining);
        Assert.Equal(20, Bytes(at, 21)[19]);
        Assert.Equal(0, Bytes(at, 21)[20]);
    }

    [Fact]
    public void GuestSlice_checks_every_offset_and_length_without_overflow()
    {
        Assert.True(_ram.Memory.TrySlice(Base + 0x1000, 0x100, out var slice));
        Assert.Equal(0x100UL, slice.Length);
        Assert.True(slice.TrySlice(0x80, 0x80, out var tail));
        Assert.False(slice.TrySlice(0x80, 0x81, out _));
        Assert.False(slice.TrySlice(ulong.MaxValue, 2, out _));
        Assert.False(slice.TrySlice(1, ulong.MaxValue, out _));
        Assert.True(tail.TryWriteByte(0x7F, 0x5A));
        Assert.False(tail.TryWriteByte(0x80, 0x5A));
        Assert.Equal(0x5A, Bytes(Base + 0x10FF, 1)[0]);
        Span<byte> buffer = stackalloc byte[16];
        Assert.Equal(1, tail.CopyTo(0x7F, buffer));
        Assert.Equal(0, tail.CopyTo(0x80, buffer));
        Assert.Equal(0, tail.CopyTo(ulong.MaxValue, buffer));
        Assert.False(_ram.Memory.TrySlice(Base + (7UL << 30) - 8, 16, out _)); // straddles the end of RAM
        Assert.False(_ram.Memory.TrySlice(ulong.MaxValue - 4, 16, out _));   // wraps 2^64
    }
}
