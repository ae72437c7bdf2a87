using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>
/// Constants for the backing-file syscalls (x86-64, linux/falloc.h, linux/fs.h, linux/stat.h, asm/fcntl.h):
/// open flags, fallocate modes, block-device ioctls, the statx fields BlockFile reads, pwritev2 flags.
/// </summary>
internal static class BlockAbi
{
    public const int O_CREAT = 0x40, O_EXCL = 0x80, O_DIRECT = 0x4000;
    public const uint CreateMode = 0x1A4; // 0644

    public const int FallocKeepSize = 0x01, FallocPunchHole = 0x02, FallocZeroRange = 0x10;

    /// <summary>RWF_DSYNC: per-write O_DSYNC (pwritev2 flags, io_uring rw_flags).</summary>
    public const int RwfDsync = 0x02;

    /// <summary>BLKSSZGET = _IO(0x12,104): logical sector size (int). BLKGETSIZE64 = _IOR(0x12,114,size_t): bytes (u64).</summary>
    public const nuint BlkSszGet = 0x1268;
    public const nuint BlkGetSize64 = 0x80081272;

    public const int EIO = 5, EDQUOT = 122, EOPNOTSUPP = 95, EBUSY = 16, EEXIST = 17, ENOSPC = 28, EISDIR = 21, EROFS = 30, ECANCELED = 125;

    public const int AtEmptyPath = 0x1000;
    public const uint StatxMaskType = 0x1, StatxMaskMode = 0x2, StatxMaskSize = 0x200, StatxMaskBlocks = 0x400, StatxMaskDioAlign = 0x2000;
    public const int StatxMaskOffset = 0, StatxModeOffset = 28, StatxSizeOffset = 40, StatxBlocksOffset = 48;
    public const int StatxRdevMajorOffset = 128, StatxRdevMinorOffset = 132;
    public const int StatxDioMemAlignOffset = 152, StatxDioOffsetAlignOffset = 156;
    public const uint S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFBLK = 0x6000, S_IFDIR = 0x4000;
}

internal static partial class Libc
{
    /// <summary>open(2) with a creation mode (the variadic third argument travels in a register on x86-64).</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenWithMode(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    // SAFETY: a binding only; callers pass iovcnt IoVecs that each name a live, bounds-checked buffer
    [LibraryImport("libc", EntryPoint = "preadv", SetLastError = true)]
    public static unsafe partial nint Preadv(int fd, void* iov, int iovcnt, long offset);

    // SAFETY: a binding only; callers pass iovcnt IoVecs that each name a live, bounds-checked buffer
    [LibraryImport("libc", EntryPoint = "pwritev2", SetLastError = true)]
    public static unsafe partial nint Pwritev2(int fd, void* iov, int iovcnt, long offset, int flags);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(int fd);

    public const uint MFD_CLOEXEC = 1;

    /// <summary>memfd_create(2): an anonymous regular file in RAM (shmem), so io_uring and hole punching work on it.</summary>
    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);
}
