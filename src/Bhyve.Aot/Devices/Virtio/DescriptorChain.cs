using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Virtio;

/// <summary>One buffer of a chain, already checked to lie in guest RAM.</summary>
public struct ChainSegment
{
    // SAFETY: set only by DescriptorChain.Walk (and tests) from GuestMemory.TryTranslate(address, Length).
    public unsafe byte* Host;
    public uint Length;
    public bool Writable;

    /// <summary>The buffer as a bounds-checked slice (DescriptorChain.Walk translated Host and Length from guest RAM).</summary>
    // SAFETY: Host and Length were translated together from guest RAM by Walk.
    public readonly unsafe GuestSlice Slice => GuestSlice.FromTranslated((nint)Host, Length);
}

/// <summary>Why a descriptor chain was refused. Every value but None is ring corruption (the device needs a reset).</summary>
public enum ChainError
{
    None,
    NextOutOfRange,
    Loop,
    IndirectNotNegotiated,
    IndirectBadSize,
    IndirectOutsideRam,
    NestedIndirect,
    IndirectWithNext,
    ReadableAfterWritable,
    ZeroLength,
    OutsideRam,
    TooManySegments,
    TooLong,
}

/// <summary>
/// Walks and validates a descriptor chain in one pure pass before anything acts on it: every next index in
/// range, bounded length (no loops), indirect tables well formed and not nested, readable buffers before
/// writable ones, no empty buffers, every buffer inside guest RAM, total length within 4 GiB.
/// </summary>
public static class DescriptorChain
{
    // SAFETY: indirect tables are translated for their whole length and indexed below their entry count; buffers are translated before they are recorded.
    public static unsafe ChainError Walk(SplitVirtqueue queue, GuestMemory memory, ushort head, bool indirectAllowed,
                                  Span<ChainSegment> segments, out int count, out ulong totalLength)
    {
        count = 0;
        totalLength = 0;
        byte* table = null;       // non-null while inside an indirect table
        int tableEntries = 0;
        int budget = queue.Size;  // descriptors we may still visit in the current table
        int index = head;
        bool seenWritable = false;
        while (true)
        {
            VirtqDescriptor d = table is null ? queue.Descriptor(index) : *(VirtqDescriptor*)(table + index * SplitVirtqueue.DescriptorSize);
            if ((d.Flags & SplitVirtqueue.DescIndirect) != 0)
            {
                if (table is not null) return ChainError.NestedIndirect;
                if (!indirectAllowed) return ChainError.IndirectNotNegotiated;
                if ((d.Flags & SplitVirtqueue.DescNext) != 0) return ChainError.IndirectWithNext;
                if (d.Length == 0 || d.Length % SplitVirtqueue.DescriptorSize != 0) return ChainError.IndirectBadSize;
                if (!memory.TryTranslate(d.Address, d.Length, out table)) return ChainError.IndirectOutsideRam;
                tableEntries = (int)(d.Length / SplitVirtqueue.DescriptorSize);
                budget = tableEntries;
                index = 0;
                continue;
            }
            if (d.Length == 0) return ChainError.ZeroLength;
            bool writable = (d.Flags & SplitVirtqueue.DescWrite) != 0;
            if (!writable && seenWritable) return ChainError.ReadableAfterWritable;
            seenWritable |= writable;
            if (!memory.TryTranslate(d.Address, d.Length, out byte* host)) return ChainError.OutsideRam;
            if (count == segments.Length) return ChainError.TooManySegments;
            totalLength += d.Length;
            if (totalLength > uint.MaxValue) return ChainError.TooLong;
            segments[count++] = new ChainSegment { Host = host, Length = d.Length, Writable = writable };
            if ((d.Flags & SplitVirtqueue.DescNext) == 0) return ChainError.None;
            if (--budget == 0) return ChainError.Loop;
            index = d.Next;
            if (index >= (table is null ? queue.Size : tableEntries)) return ChainError.NextOutOfRange;
        }
    }
}
