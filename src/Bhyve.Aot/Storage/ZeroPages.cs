using System.Runtime.InteropServices;

namespace Bhyve.Aot.Storage;

/// <summary>
/// One process-wide block of zero bytes and an iovec array that repeats it, for WRITE ZEROES where the file system
/// can neither zero a range in place (tmpfs has no FALLOC_FL_ZERO_RANGE) nor may unmap it (discard=ignore, or the
/// guest did not allow it): the engines then write zeroes. The kernel only reads from it, so every thread may share
/// it; it is page-aligned so O_DIRECT files take it without bouncing. Allocated once and never freed.
/// </summary>
internal static class ZeroPages
{
    public const int BlockBytes = 64 << 10;
    public const int Segments = 16;

    /// <summary>Bytes one write of the whole array moves.</summary>
    public const ulong ChunkBytes = (ulong)BlockBytes * Segments;

    private static readonly nint s_iov = Allocate();

    // SAFETY: one zeroed BlockBytes allocation and Segments iovecs, written below Segments; never freed, so they live as long as the process
    private static unsafe nint Allocate()
    {
        byte* block = (byte*)NativeMemory.AlignedAlloc(BlockBytes, 4096);
        new Span<byte>(block, BlockBytes).Clear();
        var iov = (IoVec*)NativeMemory.Alloc(Segments, (nuint)sizeof(IoVec));
        for (int i = 0; i < Segments; i++) iov[i] = new IoVec((nint)block, BlockBytes);
        return (nint)iov;
    }

    /// <summary>
    /// The iovecs that cover min(length, ChunkBytes) bytes: how many of them, the last one trimmed through a copy the
    /// caller supplies (the shared array itself is never written after setup).
    /// </summary>
    /// <remarks>SAFETY: s_iov holds Segments entries for the process lifetime; tail has room for one IoVec.</remarks>
    public static unsafe IoVec* For(ulong length, IoVec* tail, out int count, out ulong bytes)
    {
        bytes = Math.Min(length, ChunkBytes);
        count = (int)((bytes + BlockBytes - 1) / BlockBytes);
        var iov = (IoVec*)s_iov;
        if (bytes % BlockBytes == 0) return iov;
        // A partial last block: the first count-1 whole blocks, then a shorter one. Only a single-iovec form can
        // carry a trimmed entry without writing the shared array, so partial chunks go as one shorter write.
        *tail = new IoVec(iov[0].Base, (nuint)(bytes % BlockBytes));
        if (count == 1) return tail;
        count--;
        bytes = (ulong)count * BlockBytes;
        return iov;
    }
}
