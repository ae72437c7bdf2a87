using System.Buffers.Binary;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Virtio.Blk;

/// <summary>virtio-blk request types (virtio 1.x §5.2.6) and statuses.</summary>
public static class VirtioBlkType
{
    public const uint In = 0, Out = 1, Flush = 4, FlushOut = 5, GetId = 8, Discard = 11, WriteZeroes = 13;
    /// <summary>Legacy barrier flag in the type; ignored, as QEMU does.</summary>
    public const uint Barrier = 0x8000_0000;
    public const byte StatusOk = 0, StatusIoErr = 1, StatusUnsupported = 2;
    public const int HeaderSize = 16;
    public const int SegmentSize = 16;
}

/// <summary>
/// A request framed from a validated chain, before anything acts on it. The spec lets a driver frame a
/// request any way it likes: the 16-byte header is gathered from the first readable bytes wherever they
/// fall, the status is the last byte of the last writable buffer, and the data is what lies between.
/// </summary>
public struct VirtioBlkRequest
{
    public uint Type;
    public ulong Sector;
    // SAFETY: points at the last byte of the last writable segment, translated by DescriptorChain.Walk.
    public unsafe byte* Status;
    /// <summary>Data buffers in the request's direction (device-readable for OUT/DISCARD/WZ, writable for IN/GET_ID).</summary>
    public int DataSegments;
    public ulong DataLength;
    /// <summary>Bytes in the other direction, beyond header and status: a malformed request (IOERR).</summary>
    public ulong StrayLength;

    /// <summary>The status byte as a one-byte slice of guest RAM.</summary>
    // SAFETY: Status points at a byte inside a segment DescriptorChain.Walk translated (see TryParse).
    public readonly unsafe GuestSlice StatusByte => GuestSlice.FromTranslated((nint)Status, 1);

    public readonly bool IsDeviceWritableData => Type is VirtioBlkType.In or VirtioBlkType.GetId;

    /// <summary>
    /// Frames a request. Returns null on success, or a reason when the chain has no complete header or no status
    /// byte (ring-level corruption: nothing can be reported back in-band). data receives the data buffers.
    /// </summary>
    // SAFETY: every pointer is a segment's Host plus an offset below its Length (segments come from DescriptorChain.Walk).
    public static unsafe string? TryParse(ReadOnlySpan<ChainSegment> chain, Span<IoVec> data, out VirtioBlkRequest request)
    {
        request = default;
        int readable = 0;
        ulong readableBytes = 0;
        while (readable < chain.Length && !chain[readable].Writable) readableBytes += chain[readable++].Length;
        if (readableBytes < VirtioBlkType.HeaderSize) return "request header shorter than 16 bytes";
        if (readable == chain.Length) return "request has no writable status byte";

        Span<byte> header = stackalloc byte[VirtioBlkType.HeaderSize];
        int headerFilled = 0, segment = 0;
        uint consumedInSegment = 0;
        while (headerFilled < VirtioBlkType.HeaderSize)
        {
            int take = (int)Math.Min(chain[segment].Length, (uint)(VirtioBlkType.HeaderSize - headerFilled));
            new ReadOnlySpan<byte>(chain[segment].Host, take).CopyTo(header[headerFilled..]);
            headerFilled += take;
            if (take == chain[segment].Length) segment++;
            else consumedInSegment = (uint)take;
        }
        request.Type = BinaryPrimitives.ReadUInt32LittleEndian(header) & ~VirtioBlkType.Barrier;
        request.Sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);

        var last = chain[^1];
        request.Status = last.Host + last.Length - 1;
        bool writableData = request.IsDeviceWritableData;
        int n = 0;
        // Readable data: what follows the header.
        for (int i = segment; i < readable; i++)
        {
            uint skip = i == segment ? consumedInSegment : 0;
            uint length = chain[i].Length - skip;
            if (length == 0) continue;
            if (!writableData && !Append(data, ref n, chain[i].Host + skip, length)) return TooManySegments(ref request);
            if (writableData) request.StrayLength += length;
            else request.DataLength += length;
        }
        // Writable data: everything before the status byte.
        for (int i = readable; i < chain.Length; i++)
        {
            uint length = i == chain.Length - 1 ? chain[i].Length - 1 : chain[i].Length;
            if (length == 0) continue;
            if (writableData && !Append(data, ref n, chain[i].Host, length)) return TooManySegments(ref request);
            if (writableData) request.DataLength += length;
            else request.StrayLength += length;
        }
        request.DataSegments = n;
        return null;
    }

    /// <summary>More data buffers than the caller can take: DataSegments = -1 tells it (a request-level IOERR).</summary>
    private static string? TooManySegments(ref VirtioBlkRequest request)
    {
        request.DataSegments = -1;
        return null;
    }

    // SAFETY: stores a pointer and length that the caller took from one translated segment.
    private static unsafe bool Append(Span<IoVec> iov, ref int count, byte* at, uint length)
    {
        if (count == iov.Length) return false;
        iov[count++] = new IoVec((nint)at, length);
        return true;
    }
}
