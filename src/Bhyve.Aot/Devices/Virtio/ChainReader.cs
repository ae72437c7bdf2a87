using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Virtio;

/// <summary>
/// Reads the device-readable buffers of a validated chain as one byte stream, whatever way the driver split them
/// (virtio 1.x §2.6.4: devices must not assume a particular framing). Positions and lengths are 64-bit, so a chain of
/// several buffers totalling more than 4 GiB is handled; nothing allocates.
/// </summary>
public ref struct ChainReader
{
    private readonly ReadOnlySpan<ChainSegment> _segments;
    private int _segment;
    private ulong _offset; // within _segments[_segment]

    /// <summary>Reads the readable segments at the start of segments (a chain's readable part always comes first).</summary>
    public ChainReader(ReadOnlySpan<ChainSegment> segments)
    {
        int readable = 0;
        ulong total = 0;
        while (readable < segments.Length && !segments[readable].Writable) total += segments[readable++].Length;
        _segments = segments[..readable];
        Remaining = total;
    }

    /// <summary>Bytes left to read.</summary>
    public ulong Remaining { get; private set; }

    /// <summary>Copies up to destination.Length bytes; returns how many (fewer only at the end of the chain).</summary>
    public int Read(scoped Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length && _segment < _segments.Length)
        {
            var slice = _segments[_segment].Slice;
            int n = slice.CopyTo(_offset, destination[done..]);
            done += n;
            Advance((ulong)n);
        }
        return done;
    }

    /// <summary>Skips up to count bytes; returns how many were skipped.</summary>
    public ulong Skip(ulong count)
    {
        ulong skipped = Math.Min(count, Remaining);
        ulong left = skipped;
        while (left > 0)
        {
            ulong step = Math.Min(left, _segments[_segment].Length - _offset);
            Advance(step);
            left -= step;
        }
        return skipped;
    }

    private void Advance(ulong n)
    {
        _offset += n;
        Remaining -= n;
        while (_segment < _segments.Length && _offset == _segments[_segment].Length)
        {
            _segment++;
            _offset = 0;
        }
    }
}
