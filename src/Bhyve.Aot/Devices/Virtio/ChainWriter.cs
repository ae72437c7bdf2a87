namespace Bhyve.Aot.Devices.Virtio;

/// <summary>
/// Writes into the device-writable buffers of a validated chain as one byte stream, up to a limit (a virtio-blk
/// device keeps the last writable byte for the status). Positions and lengths are 64-bit; nothing allocates.
/// </summary>
public ref struct ChainWriter
{
    private readonly ReadOnlySpan<ChainSegment> _segments;
    private int _segment;
    private ulong _offset; // within _segments[_segment]

    /// <summary>Writes the writable segments of segments (those after the readable ones), at most limit bytes.</summary>
    public ChainWriter(ReadOnlySpan<ChainSegment> segments, ulong limit = ulong.MaxValue)
    {
        int first = 0;
        while (first < segments.Length && !segments[first].Writable) first++;
        ulong total = 0;
        for (int i = first; i < segments.Length; i++) total += segments[i].Length;
        _segments = segments[first..];
        Capacity = Math.Min(total, limit);
        Remaining = Capacity;
    }

    /// <summary>Bytes the writer may write in all.</summary>
    public ulong Capacity { get; }

    /// <summary>Bytes left to write.</summary>
    public ulong Remaining { get; private set; }

    /// <summary>Bytes written so far (what a used element reports).</summary>
    public readonly ulong Written => Capacity - Remaining;

    /// <summary>Copies up to source.Length bytes (fewer only when the writer is full); returns how many.</summary>
    public int Write(scoped ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length && Remaining > 0)
        {
            int want = (int)Math.Min((ulong)(source.Length - done), Remaining);
            int n = _segments[_segment].Slice.CopyFrom(_offset, source.Slice(done, want));
            done += n;
            Remaining -= (ulong)n;
            _offset += (ulong)n;
            if (_offset == _segments[_segment].Length)
            {
                _segment++;
                _offset = 0;
            }
        }
        return done;
    }
}
