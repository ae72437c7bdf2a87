using System.Runtime.CompilerServices;

namespace Bhyve.Aot.Storage;

/// <summary>O_DIRECT rules: what must be aligned, and the copies between guest iovecs and a bounce buffer.</summary>
internal static class DirectIo
{
    /// <summary>Offset and length must be whole logical blocks; a bounce buffer cannot fix this without a
    /// read-modify-write, so such requests complete with -EINVAL (the device advertises blk_size to prevent them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool RangeAligned(ulong offset, ulong length, uint alignment) =>
        ((offset | length) & (alignment - 1)) == 0;

    /// <summary>Each segment's address on memAlign and length on lengthAlign, as the kernel's iov_iter_alignment checks.</summary>
    public static bool BuffersAligned(ReadOnlySpan<IoVec> iov, uint memAlign, uint lengthAlign)
    {
        foreach (var v in iov)
        {
            if (((ulong)v.Base & (memAlign - 1)) != 0 || ((ulong)v.Length & (lengthAlign - 1)) != 0) return false;
        }
        return true;
    }

    public static ulong TotalLength(ReadOnlySpan<IoVec> iov)
    {
        ulong total = 0;
        foreach (var v in iov) total += v.Length;
        return total;
    }

    /// <summary>Guest → bounce, before a write.</summary>
    // SAFETY: callers pass a destination of at least TotalLength(iov) bytes (a bounce buffer they checked it fits), and each IoVec names guest RAM the device bounds-checked
    public static unsafe void Gather(ReadOnlySpan<IoVec> iov, byte* destination)
    {
        foreach (var v in iov)
        {
            Buffer.MemoryCopy((void*)v.Base, destination, (long)v.Length, (long)v.Length);
            destination += v.Length;
        }
    }

    /// <summary>Bounce → guest, after a read of count bytes.</summary>
    // SAFETY: count is what the kernel read into source (at most the request's total), and the segments are the request's own bounds-checked IoVecs, so no copy runs past either side
    public static unsafe void Scatter(byte* source, ulong count, IoVec* iov, int segments)
    {
        for (int i = 0; i < segments && count > 0; i++)
        {
            ulong n = Math.Min(count, (ulong)iov[i].Length);
            Buffer.MemoryCopy(source, (void*)iov[i].Base, (long)n, (long)n);
            source += n;
            count -= n;
        }
    }
}
