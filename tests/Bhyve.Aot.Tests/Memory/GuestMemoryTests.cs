using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Memory;

/// <summary>
/// GuestMemory bounds checks: every guest-supplied (address, length) either lies wholly in one region or is
/// refused, including sums that would wrap past 2^64.
/// </summary>
public sealed unsafe class GuestMemoryTests : IDisposable
{
    private const ulong Base = 0x1_0000, Size = 0x2000, End = Base + Size;
    private readonly FakeRam _ram = new(Size, Base);

    public void Dispose() => _ram.Dispose();

    [Theory]
    [InlineData(Base, Size, true)]              // the whole region
    [InlineData(Base, 0UL, true)]               // zero-length at the start
    [InlineData(End - 1, 1UL, true)]            // last byte
    [InlineData(End - 1, 0UL, true)]            // zero-length inside
    [InlineData(Base, Size + 1, false)]         // one byte too long
    [InlineData(End - 1, 2UL, false)]           // straddles the end
    [InlineData(End, 0UL, false)]               // zero-length just past the end
    [InlineData(End, 1UL, false)]
    [InlineData(Base - 1, 1UL, false)]          // just below
    [InlineData(Base - 1, 2UL, false)]          // straddles the start
    [InlineData(0UL, Base + 1, false)]          // from below into the region
    [InlineData(Base, ulong.MaxValue, false)]
    [InlineData(End - 1, ulong.MaxValue, false)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0, 0x20UL, false)]          // wraps to 0x10
    [InlineData(0xFFFF_FFFF_FFFF_FFF0, Base + 0x20, false)]     // wraps into the region
    [InlineData(ulong.MaxValue, Base + 2, false)]
    public void TryTranslate_accepts_only_ranges_inside_the_region(ulong address, ulong length, bool expected)
    {
        Assert.Equal(expected, _ram.Memory.TryTranslate(address, length, out byte* host));
        Assert.Equal(expected, _ram.Memory.Contains(address, length));
        if (expected) Assert.True(host == _ram.Host + (address - Base));
        else Assert.True(host == null);
    }

    [Fact]
    public void A_region_ending_at_the_top_of_the_address_space_has_no_wraparound()
    {
        // Region [2^64 - 0x2000, 2^64): its end is not representable, so every naive "address + length" overflows.
        const ulong top = 0xFFFF_FFFF_FFFF_E000;
        using var ram = new FakeRam(0x2000, top);
        var m = ram.Memory;
        Assert.True(m.Contains(0xFFFF_FFFF_FFFF_FFF0, 0x10));
        Assert.True(m.Contains(ulong.MaxValue, 1));
        Assert.True(m.Contains(top, 0x2000));
        Assert.False(m.Contains(0xFFFF_FFFF_FFFF_FFF0, 0x11));
        Assert.False(m.Contains(0xFFFF_FFFF_FFFF_FFF0, 0x20));
        Assert.False(m.Contains(ulong.MaxValue, 2));
        Assert.False(m.Contains(ulong.MaxValue, ulong.MaxValue));
        Assert.False(m.Contains(top, ulong.MaxValue));
        Assert.False(m.Contains(0, 0x10));
        Assert.False(m.TryWrite(0xFFFF_FFFF_FFFF_FFFC, 0UL));
        Assert.True(m.TryWrite(0xFFFF_FFFF_FFFF_FFF8, 0x1122_3344_5566_7788UL));
        Assert.Equal(0x88, ram.HostSpan(0x1FF8, 1)[0]);
    }

    [Fact]
    public void TryGetSpan_gives_the_host_bytes_and_refuses_bad_ranges()
    {
        Assert.True(_ram.Memory.TryGetSpan(Base + 0x10, 4, out var span));
        Assert.Equal(4, span.Length);
        span.Fill(0x5A);
        Assert.Equal([0, 0x5A, 0x5A, 0x5A, 0x5A, 0], _ram.HostSpan(0xF, 6).ToArray());

        Assert.False(_ram.Memory.TryGetSpan(End, 0, out _));
        Assert.True(_ram.Memory.TryGetSpan(Base, 0, out var empty) && empty.IsEmpty);
        Assert.False(_ram.Memory.TryGetSpan(End - 4, 5, out var none));
        Assert.True(none.IsEmpty);
        // Longer than any span can be, whatever the region holds.
        Assert.False(_ram.Memory.TryGetSpan(Base, (ulong)int.MaxValue + 1, out _));
        Assert.False(_ram.Memory.TryGetSpan(0xFFFF_FFFF_FFFF_FFF0, 0x20, out _));
    }

    [Fact]
    public void GetSpan_throws_with_the_bad_range()
    {
        var e = Assert.Throws<GuestMemoryException>(() => _ram.Memory.GetSpan(End - 2, 4));
        Assert.Equal(End - 2, e.Address);
        Assert.Equal(4UL, e.Length);
    }

    [Fact]
    public void TryRead_and_TryWrite_round_trip_unaligned_values_at_the_edges()
    {
        var m = _ram.Memory;
        Assert.True(m.TryWrite(Base, 0xDEAD_BEEFu));
        Assert.True(m.TryWrite(End - 8, 0x0102_0304_0506_0708UL));
        Assert.True(m.TryWrite(Base + 0x101, (ushort)0xA55A));   // unaligned
        Assert.True(m.TryRead(Base, out uint a) && a == 0xDEAD_BEEF);
        Assert.True(m.TryRead(End - 8, out ulong b) && b == 0x0102_0304_0506_0708UL);
        Assert.True(m.TryRead(Base + 0x101, out ushort c) && c == 0xA55A);
        // Little-endian in host memory, as the guest sees it.
        Assert.Equal([0xEF, 0xBE, 0xAD, 0xDE], _ram.HostSpan(0, 4).ToArray());
        Assert.Equal(0x08, _ram.HostSpan(Size - 8, 1)[0]);
    }

    [Fact]
    public void TryRead_and_TryWrite_refuse_a_value_that_straddles_the_end_and_write_nothing()
    {
        var m = _ram.Memory;
        Assert.False(m.TryWrite(End - 7, ulong.MaxValue));
        Assert.True(_ram.HostSpan(Size - 8, 8).IndexOfAnyExcept((byte)0) < 0);
        Assert.False(m.TryRead(End - 7, out ulong v));
        Assert.Equal(0UL, v);
        Assert.False(m.TryRead(Base - 1, out byte _));
        Assert.False(m.TryWrite(0xFFFF_FFFF_FFFF_FFFF, 0u));
        Assert.Throws<GuestMemoryException>(() => m.Read<uint>(End - 2));
        Assert.Throws<GuestMemoryException>(() => m.Write(End - 2, 0u));
    }

    [Fact]
    public void Wrap_describes_one_region_and_does_not_own_the_buffer()
    {
        Assert.Equal(1, _ram.Memory.RegionCount);
        Assert.Equal(new RamRange(Base, Size), _ram.Memory.GetRange(0));
        Assert.Equal(Size, _ram.Memory.TotalBytes);
        // Disposing a wrapper must not free or forget memory the caller still owns.
        _ram.Memory.Dispose();
        Assert.True(_ram.Memory.Contains(Base, Size));
    }
}
