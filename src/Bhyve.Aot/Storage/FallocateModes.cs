using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// How DISCARD and WRITE ZEROES map onto fallocate(2) modes, shared by both engines.
/// On regular files the file system punches holes (which read as zero) or converts the range to zeroed extents.
/// On block devices blkdev_fallocate (block/fops.c) maps PUNCH_HOLE|KEEP_SIZE to zero-out with unmap and no
/// fallback (EOPNOTSUPP without device write-zeroes) and ZERO_RANGE|KEEP_SIZE to zero-out that falls back to
/// writing zero pages; both need offset and length aligned to the logical block size.
/// </summary>
internal static class FallocateModes
{
    public const int PunchHole = BlockAbi.FallocPunchHole | BlockAbi.FallocKeepSize;
    public const int ZeroRange = BlockAbi.FallocZeroRange | BlockAbi.FallocKeepSize;

    /// <summary>DISCARD deallocates: a hole on files, zero-out with unmap on devices.</summary>
    public const int Discard = PunchHole;

    /// <summary>WRITE ZEROES: punch when the guest allows unmapping (as QEMU does), else zero in place.</summary>
    public static int ForWriteZeroes(bool mayUnmap) => mayUnmap ? PunchHole : ZeroRange;

    /// <summary>Not an fallocate mode: WRITE ZEROES by writing zero pages (ZeroPages), which works on every file.</summary>
    public const int WriteZeroBytes = -1;

    /// <summary>
    /// The next way to try when a WRITE ZEROES mode answers EOPNOTSUPP, or 0 when there is none:
    /// punch → zero-range → (regular files) write zeroes.
    /// Without mayUnmap the range must stay allocated (discard=ignore promises the file never shrinks), so on
    /// tmpfs, which has no ZERO_RANGE, zero-range falls back to writing zeroes, never to punching a hole.
    /// On a block device zero-range already falls back to writing zeroes inside the kernel.
    /// </summary>
    public static int WriteZeroesFallback(int mode, bool isBlockDevice) => mode switch
    {
        PunchHole => ZeroRange,
        ZeroRange when !isBlockDevice => WriteZeroBytes,
        _ => 0,
    };
}
