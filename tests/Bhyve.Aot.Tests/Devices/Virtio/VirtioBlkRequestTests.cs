using System.Buffers.Binary;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>Request framing is the driver's choice (B6): header anywhere in the readable bytes, status the last writable byte.</summary>
public sealed unsafe class VirtioBlkRequestTests : IDisposable
{
    private readonly FakeRam _ram = new(1 << 20);
    private readonly IoVec[] _iov = new IoVec[8];
    private int _next = 0x1000;

    public void Dispose() => _ram.Dispose();

    /// <summary>A segment over fresh RAM; the first bytes may be given.</summary>
    private ChainSegment Seg(uint length, bool writable, ReadOnlySpan<byte> content = default)
    {
        byte* at = _ram.Host + _next;
        _next += (int)((length + 15) & ~15u);
        content.CopyTo(new Span<byte>(at, (int)length));
        return new ChainSegment { Host = at, Length = length, Writable = writable };
    }

    private static byte[] Header(uint type, ulong sector)
    {
        var h = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), 0xDEADBEEF); // reserved: ignored
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), sector);
        return h;
    }

    private string? Parse(out VirtioBlkRequest r, params ChainSegment[] chain) => VirtioBlkRequest.TryParse(chain, _iov, out r);

    [Fact]
    public void Classic_three_descriptor_read()
    {
        var data = Seg(4096, true);
        var status = Seg(1, true);
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.In, 77)), data, status));
        Assert.Equal(VirtioBlkType.In, r.Type);
        Assert.Equal(77UL, r.Sector);
        Assert.Equal(1, r.DataSegments);
        Assert.Equal(4096UL, r.DataLength);
        Assert.Equal(0UL, r.StrayLength);
        Assert.True(r.Status == status.Host);
        Assert.Equal(new IoVec((nint)data.Host, 4096), _iov[0]);
    }

    [Fact]
    public void Header_split_across_descriptors()
    {
        byte[] h = Header(VirtioBlkType.Out, 0x1_0000_0001);
        var data = Seg(512, false);
        Assert.Null(Parse(out var r, Seg(3, false, h.AsSpan(0, 3)), Seg(9, false, h.AsSpan(3, 9)), Seg(4, false, h.AsSpan(12)), data, Seg(1, true)));
        Assert.Equal(VirtioBlkType.Out, r.Type);
        Assert.Equal(0x1_0000_0001UL, r.Sector);
        Assert.Equal(1, r.DataSegments);
        Assert.Equal(new IoVec((nint)data.Host, 512), _iov[0]);
    }

    [Fact]
    public void Header_merged_with_write_data()
    {
        byte[] first = new byte[16 + 512];
        Header(VirtioBlkType.Out, 8).CopyTo(first, 0);
        var merged = Seg((uint)first.Length, false, first);
        var more = Seg(1024, false);
        Assert.Null(Parse(out var r, merged, more, Seg(1, true)));
        Assert.Equal(8UL, r.Sector);
        Assert.Equal(2, r.DataSegments);
        Assert.Equal(1536UL, r.DataLength);
        Assert.Equal(new IoVec((nint)(merged.Host + 16), 512), _iov[0]);
        Assert.Equal(new IoVec((nint)more.Host, 1024), _iov[1]);
    }

    [Fact]
    public void Header_split_with_its_second_half_merged_with_data()
    {
        byte[] h = Header(VirtioBlkType.Out, 5);
        byte[] tail = new byte[6 + 512];
        h.AsSpan(10).CopyTo(tail);
        var second = Seg((uint)tail.Length, false, tail);
        Assert.Null(Parse(out var r, Seg(10, false, h.AsSpan(0, 10)), second, Seg(1, true)));
        Assert.Equal(5UL, r.Sector);
        Assert.Equal(new IoVec((nint)(second.Host + 6), 512), _iov[0]);
        Assert.Equal(512UL, r.DataLength);
    }

    [Fact]
    public void Status_merged_with_read_data_is_its_last_byte()
    {
        var tail = Seg(4096 + 1, true);
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.In, 0)), Seg(512, true), tail));
        Assert.True(r.Status == tail.Host + 4096);
        Assert.Equal(2, r.DataSegments);
        Assert.Equal(4608UL, r.DataLength);
        Assert.Equal(new IoVec((nint)tail.Host, 4096), _iov[1]);
    }

    [Fact]
    public void Status_is_the_last_byte_of_a_larger_last_writable_buffer_for_a_write()
    {
        // OUT with a 4-byte writable tail: 3 stray writable bytes, status at its last byte.
        var tail = Seg(4, true);
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.Out, 0)), Seg(512, false), tail));
        Assert.True(r.Status == tail.Host + 3);
        Assert.Equal(3UL, r.StrayLength);
    }

    [Fact]
    public void Whole_request_in_one_readable_and_one_writable_descriptor()
    {
        byte[] all = new byte[16 + 1024];
        Header(VirtioBlkType.Out, 2).CopyTo(all, 0);
        var one = Seg((uint)all.Length, false, all);
        Assert.Null(Parse(out var r, one, Seg(1, true)));
        Assert.Equal(1024UL, r.DataLength);
        Assert.Equal(new IoVec((nint)(one.Host + 16), 1024), _iov[0]);
    }

    [Fact]
    public void Header_shorter_than_16_bytes_is_fatal()
    {
        Assert.NotNull(Parse(out _, Seg(8, false), Seg(7, false), Seg(1, true)));
        Assert.NotNull(Parse(out _, Seg(1, true)));
    }

    [Fact]
    public void No_writable_status_is_fatal()
    {
        Assert.NotNull(Parse(out _, Seg(16, false, Header(VirtioBlkType.Flush, 0))));
        Assert.NotNull(Parse(out _, Seg(16, false, Header(VirtioBlkType.Out, 0)), Seg(512, false)));
    }

    [Fact]
    public void Read_with_readable_data_has_stray_bytes()
    {
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.In, 0)), Seg(512, false), Seg(512, true), Seg(1, true)));
        Assert.Equal(512UL, r.StrayLength);
        Assert.Equal(512UL, r.DataLength);
    }

    [Fact]
    public void Write_with_writable_data_has_stray_bytes()
    {
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.Out, 0)), Seg(512, true), Seg(1, true)));
        Assert.Equal(512UL, r.StrayLength);
        Assert.Equal(0UL, r.DataLength);
        Assert.Equal(0, r.DataSegments);
    }

    [Fact]
    public void Get_id_data_is_device_writable()
    {
        var id = Seg(20, true);
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.GetId, 0)), id, Seg(1, true)));
        Assert.Equal(20UL, r.DataLength);
        Assert.Equal(0UL, r.StrayLength);
        Assert.Equal(new IoVec((nint)id.Host, 20), _iov[0]);
    }

    [Fact]
    public void Barrier_bit_is_masked_from_the_type()
    {
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.Out | VirtioBlkType.Barrier, 3)), Seg(512, false), Seg(1, true)));
        Assert.Equal(VirtioBlkType.Out, r.Type);
        Assert.Equal(512UL, r.DataLength);
    }

    [Fact]
    public void More_data_segments_than_the_caller_takes_sets_DataSegments_to_minus_one()
    {
        var chain = new List<ChainSegment> { Seg(16, false, Header(VirtioBlkType.In, 0)) };
        for (int i = 0; i < _iov.Length + 1; i++) chain.Add(Seg(512, true));
        chain.Add(Seg(1, true));
        Assert.Null(VirtioBlkRequest.TryParse(chain.ToArray(), _iov, out var r));
        Assert.Equal(-1, r.DataSegments);

        chain.RemoveAt(1); // exactly as many as fit
        Assert.Null(VirtioBlkRequest.TryParse(chain.ToArray(), _iov, out r));
        Assert.Equal(_iov.Length, r.DataSegments);
    }

    [Fact]
    public void Flush_without_data()
    {
        var status = Seg(1, true);
        Assert.Null(Parse(out var r, Seg(16, false, Header(VirtioBlkType.Flush, 0)), status));
        Assert.Equal(VirtioBlkType.Flush, r.Type);
        Assert.Equal(0, r.DataSegments);
        Assert.Equal(0UL, r.DataLength);
        Assert.True(r.Status == status.Host);
    }
}
