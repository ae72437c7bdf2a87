using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The backing store of a disk: a regular file or a block device, opened read-only or read-write, optionally
/// O_DIRECT. Knows its size, its O_DIRECT alignment, and whether discard / write-zeroes really work on it.
///
/// It also holds the disk's flush-error latch (one per backend, shared by every queue's engine): once a flush (or
/// a FUA write's sync) fails, Linux may already have marked the dirty pages clean and dropped the error, so the next
/// fdatasync would succeed although data is lost. From then on every FLUSH and FUA write fails with the first error
/// until the device that owns the disk is reset (ClearFlushError), as QEMU's file-posix keeps failing flushes.
/// </summary>
public sealed class BlockFile : IDisposable, IBlockBackendControl
{
    /// <summary>Sector size of every virtio-blk request; sizes must be whole sectors.</summary>
    public const uint SectorSize = 512;

    private int _fd;

    private bool _locked;
    private int _flushError, _firstFlushError, _flushFailures;

    private BlockFile(int fd, string path, bool readOnly, bool direct)
    {
        _fd = fd;
        Path = path;
        ReadOnly = readOnly;
        Direct = direct;
    }

    public int Fd => _fd;
    public string Path { get; }
    public bool ReadOnly { get; }
    public bool Direct { get; }
    public bool IsBlockDevice { get; private set; }
    public ulong Size { get; private set; }

    /// <summary>Smallest I/O unit: BLKSSZGET for devices; 512 for files (4096 if STATX_DIOALIGN says so under O_DIRECT).</summary>
    public uint LogicalBlockSize { get; private set; } = SectorSize;

    /// <summary>O_DIRECT: the alignment file offsets and lengths need (STATX_DIOALIGN dio_offset_align, else LogicalBlockSize).</summary>
    public uint OffsetAlignment { get; private set; } = SectorSize;

    /// <summary>O_DIRECT: the alignment user buffers need (STATX_DIOALIGN dio_mem_align, else LogicalBlockSize).</summary>
    public uint MemoryAlignment { get; private set; } = SectorSize;

    /// <summary>fallocate(PUNCH_HOLE|KEEP_SIZE) works (detected; see DetectCapabilities).</summary>
    public bool CanDiscard { get; private set; }

    /// <summary>Some zeroing fallocate mode works, so WRITE ZEROES really zeroes.</summary>
    public bool CanWriteZeroes { get; private set; }

    /// <summary>0, or the negative errno of the flush failure latched since the last device reset.</summary>
    public int FlushError => Volatile.Read(ref _flushError);

    /// <summary>Flushes (and FUA syncs) that failed since the file was opened; never cleared (the exit report reads it).</summary>
    public int FlushFailures => Volatile.Read(ref _flushFailures);

    /// <summary>The negative errno of the first flush failure since the file was opened, or 0.</summary>
    public int FirstFlushError => Volatile.Read(ref _firstFlushError);

    /// <summary>Records a failed flush (result &lt; 0); the first error since the last reset is the one kept. Any thread.</summary>
    public void LatchFlushError(int result)
    {
        if (result >= 0) return;
        Interlocked.Increment(ref _flushFailures);
        Interlocked.CompareExchange(ref _firstFlushError, result, 0);
        Interlocked.CompareExchange(ref _flushError, result, 0);
    }

    /// <summary>The device was reset: the guest has been told about the failure and starts over.</summary>
    public void ClearFlushError() => Volatile.Write(ref _flushError, 0);

    /// <summary>
    /// fdatasync from outside a queue (an NVMe shutdown while disabled): the latched error if there is one, else
    /// the result (0 or -errno, EINTR retried), which latches on failure.
    /// </summary>
    public int Flush()
    {
        int latched = FlushError;
        if (latched != 0) return latched;
        int result;
        do result = Libc.Fdatasync(_fd) == 0 ? 0 : -Libc.LastErrno;
        while (result == -Libc.EINTR);
        LatchFlushError(result);
        return result;
    }

    /// <summary>One line for the exit report when a flush failed during the run, else null.</summary>
    public string? FlushFailureReport() => FlushFailures == 0 ? null
        : $"{Path}: {FlushFailures} flush{(FlushFailures == 1 ? "" : "es")} failed (first: {Libc.Describe(-FirstFlushError)}); data the guest wrote may not be on stable storage";

    /// <summary>Opens an existing file or block device.</summary>
    public static BlockFile Open(string path, bool readOnly = false, bool direct = false)
    {
        int flags = (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC | (direct ? BlockAbi.O_DIRECT : 0);
        int fd = Libc.Open(path, flags);
        if (fd < 0) throw OpenFailure(path, Libc.LastErrno, readOnly, direct);
        return Describe(new BlockFile(fd, path, readOnly, direct));
    }

    /// <summary>
    /// Locks the image for this VM with an OFD lock over the whole file, as Cloud Hypervisor does: shared for a
    /// read-only disk, exclusive otherwise, so a second VM opening it for writing is refused (and a writer refuses
    /// readers). Released when the file is closed. Throws BlockFileException (and closes the file) when it is held.
    /// </summary>
    public BlockFile Lock()
    {
        var request = new FileLockAbi.Flock { Type = ReadOnly ? FileLockAbi.F_RDLCK : FileLockAbi.F_WRLCK, Whence = FileLockAbi.SEEK_SET };
        if (Libc.FcntlLock(_fd, FileLockAbi.F_OFD_SETLK, ref request) == 0)
        {
            _locked = true;
            return this;
        }
        int errno = Libc.LastErrno;
        var holder = new FileLockAbi.Flock { Type = request.Type, Whence = FileLockAbi.SEEK_SET };
        // An OFD lock has no owning process (l_pid -1); a classic POSIX lock names its pid.
        string who = Libc.FcntlLock(_fd, FileLockAbi.F_OFD_GETLK, ref holder) == 0 && holder.Pid > 0 ? $" (held by process {holder.Pid})" : " (another VM has it open)";
        Dispose();
        if (errno is Libc.EAGAIN or Libc.EACCES)
            throw new BlockFileException($"{Path}: the image is locked{who}; a second VM may not open it {(ReadOnly ? "while another writes it" : "for writing")} (lock=off overrides)", errno);
        throw new BlockFileException($"{Path}: cannot lock the image: {Libc.Describe(errno)}", errno);
    }

    /// <summary>
    /// Creates a sparse regular file of size bytes (ftruncate allocates nothing); an existing file of exactly that
    /// size is opened instead, and one of a different size is refused rather than resized.
    /// </summary>
    public static BlockFile Create(string path, ulong size, bool direct = false)
    {
        CheckSize(path, size);
        int flags = Libc.O_RDWR | Libc.O_CLOEXEC | BlockAbi.O_CREAT | BlockAbi.O_EXCL | (direct ? BlockAbi.O_DIRECT : 0);
        int fd = Libc.OpenWithMode(path, flags, BlockAbi.CreateMode);
        if (fd < 0)
        {
            int errno = Libc.LastErrno;
            if (errno != BlockAbi.EEXIST) throw OpenFailure(path, errno, false, direct);
            var existing = Open(path, readOnly: false, direct);
            if (existing.Size != size)
            {
                ulong actual = existing.Size;
                existing.Dispose();
                throw new BlockFileException($"{path}: exists with size {actual} bytes, not the requested {size}");
            }
            return existing;
        }
        if (Libc.Ftruncate(fd, (long)size) < 0)
        {
            int errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new BlockFileException($"{path}: cannot size to {size} bytes: {Libc.Describe(errno)}", errno);
        }
        return Describe(new BlockFile(fd, path, false, direct));
    }

    /// <summary>
    /// A disk that lives in host RAM only: a memfd of `size` bytes (sparse: pages are taken when written, and
    /// punching a hole gives them back), gone when the VM ends. It behaves as a regular file for both engines.
    /// </summary>
    public static BlockFile CreateInMemory(string name, ulong size)
    {
        CheckSize(name, size);
        int fd = Libc.MemfdCreate(name, Libc.MFD_CLOEXEC);
        if (fd < 0) throw new BlockFileException($"{name}: memfd_create failed: {Libc.Describe(Libc.LastErrno)}", Libc.LastErrno);
        if (Libc.Ftruncate(fd, (long)size) < 0)
        {
            int errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new BlockFileException($"{name}: cannot size to {size} bytes: {Libc.Describe(errno)}", errno);
        }
        return Describe(new BlockFile(fd, name, false, false));
    }

    private static BlockFile Describe(BlockFile file)
    {
        try
        {
            file.ReadAttributes();
            CheckSize(file.Path, file.Size);
            file.DetectCapabilities();
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void CheckSize(string path, ulong size)
    {
        if (size == 0) throw new BlockFileException($"{path}: size is 0; a disk needs at least one {SectorSize}-byte sector");
        if (size % SectorSize != 0) throw new BlockFileException($"{path}: size {size} bytes is not a multiple of {SectorSize}");
        if (size > long.MaxValue) throw new BlockFileException($"{path}: size {size} bytes is too large");
    }

    private static BlockFileException OpenFailure(string path, int errno, bool readOnly, bool direct) => errno switch
    {
        Libc.ENOENT => new($"{Os.InputFile.Escape(path)}: {Os.InputFile.DescribeOpenFailure(path, errno)}", errno),
        Libc.EACCES or Libc.EPERM => new($"{path}: permission denied ({(readOnly ? "read" : "read-write")} access)", errno),
        BlockAbi.EROFS => new($"{path}: read-only file system; open it read-only", errno),
        BlockAbi.EISDIR => new($"{path}: is a directory", errno),
        Libc.EINVAL when direct => new($"{path}: the file system does not support O_DIRECT", errno),
        _ => new($"{path}: cannot open: {Libc.Describe(errno)}", errno),
    };

    /// <summary>statx(fd, "", AT_EMPTY_PATH): type, size, O_DIRECT alignment; block devices answer the ioctls.</summary>
    // SAFETY: statx writes at most Statx.Size bytes into the stack buffer of that size, and the fields read lie at fixed offsets inside it; the ioctls fill a ulong and an int on our stack
    private unsafe void ReadAttributes()
    {
        byte* stx = stackalloc byte[Statx.Size];
        byte* empty = stackalloc byte[1];
        empty[0] = 0;
        uint mask = BlockAbi.StatxMaskType | BlockAbi.StatxMaskMode | BlockAbi.StatxMaskSize | BlockAbi.StatxMaskDioAlign;
        if (Libc.Syscall(Statx.SyscallNumber, _fd, (long)empty, BlockAbi.AtEmptyPath, mask, (long)stx, 0) < 0)
            throw new BlockFileException($"{Path}: statx failed: {Libc.Describe(Libc.LastErrno)}", Libc.LastErrno);
        uint type = *(ushort*)(stx + BlockAbi.StatxModeOffset) & BlockAbi.S_IFMT;
        if (type == BlockAbi.S_IFBLK)
        {
            IsBlockDevice = true;
            ulong bytes;
            if (Libc.Ioctl(_fd, BlockAbi.BlkGetSize64, &bytes) < 0)
                throw new BlockFileException($"{Path}: BLKGETSIZE64 failed: {Libc.Describe(Libc.LastErrno)}", Libc.LastErrno);
            int sector;
            if (Libc.Ioctl(_fd, BlockAbi.BlkSszGet, &sector) < 0 || sector <= 0) sector = (int)SectorSize;
            Size = bytes;
            LogicalBlockSize = OffsetAlignment = MemoryAlignment = (uint)sector;
        }
        else if (type == BlockAbi.S_IFREG)
        {
            Size = *(ulong*)(stx + BlockAbi.StatxSizeOffset);
        }
        else
        {
            throw new BlockFileException($"{Path}: not a regular file or block device");
        }

        // STATX_DIOALIGN (6.1): the kernel's own answer for O_DIRECT; 0 means O_DIRECT is not supported here.
        uint returned = *(uint*)(stx + BlockAbi.StatxMaskOffset);
        if (Direct && (returned & BlockAbi.StatxMaskDioAlign) != 0)
        {
            uint mem = *(uint*)(stx + BlockAbi.StatxDioMemAlignOffset);
            uint off = *(uint*)(stx + BlockAbi.StatxDioOffsetAlignOffset);
            if (mem != 0 && off != 0)
            {
                MemoryAlignment = mem;
                OffsetAlignment = Math.Max(off, LogicalBlockSize);
                LogicalBlockSize = OffsetAlignment;
            }
        }
    }

    /// <summary>
    /// Discard / write-zeroes detection, without touching data:
    /// - Regular file: fallocate(PUNCH_HOLE|KEEP_SIZE) on [Size, Size+4096), past EOF. File systems check the
    ///   mode before the range, so an unsupported one says EOPNOTSUPP; a supported one has nothing to punch there
    ///   and KEEP_SIZE leaves the size alone (ext4, xfs, btrfs, tmpfs). Write-zeroes works on every writable file:
    ///   where neither ZERO_RANGE nor (when unmapping is allowed) punching works, the engines write zero pages.
    /// - Block device: blkdev_fallocate maps PUNCH_HOLE|KEEP_SIZE to zero-out with unmap and no fallback, and
    ///   ZERO_RANGE to zero-out that falls back to writing zeroes in the kernel. So write-zeroes always works;
    ///   discard works when the queue advertises write-zeroes (sysfs write_zeroes_max_bytes > 0).
    /// - Read-only: neither (both write).
    /// </summary>
    private void DetectCapabilities()
    {
        if (ReadOnly) return;
        if (IsBlockDevice)
        {
            CanWriteZeroes = true;
            CanDiscard = DeviceQueueLimit("write_zeroes_max_bytes") > 0;
            return;
        }
        const int Probe = 4096;
        CanDiscard = Libc.Fallocate(_fd, BlockAbi.FallocPunchHole | BlockAbi.FallocKeepSize, (long)Size, Probe) == 0;
        // Without ZERO_RANGE or punching the engines write zero pages, so WRITE ZEROES always works on a writable file.
        CanWriteZeroes = true;
    }

    // SAFETY: statx writes at most Statx.Size bytes into the stack buffer of that size; the rdev fields lie inside it
    private unsafe ulong DeviceQueueLimit(string name)
    {
        byte* stx = stackalloc byte[Statx.Size];
        byte* empty = stackalloc byte[1];
        empty[0] = 0;
        if (Libc.Syscall(Statx.SyscallNumber, _fd, (long)empty, BlockAbi.AtEmptyPath, BlockAbi.StatxMaskType, (long)stx, 0) < 0) return 0;
        uint major = *(uint*)(stx + BlockAbi.StatxRdevMajorOffset), minor = *(uint*)(stx + BlockAbi.StatxRdevMinorOffset);
        // A whole disk has queue/ itself; a partition's queue/ belongs to its parent disk, one level up.
        foreach (string dir in (ReadOnlySpan<string>)["queue", "../queue"])
        {
            try
            {
                string text = File.ReadAllText($"/sys/dev/block/{major}:{minor}/{dir}/{name}").Trim();
                return ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong v) ? v : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return 0; // claim nothing we cannot see
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            // Unlock before closing: an io_uring ring with this file registered keeps the open file description (and
            // so its OFD lock) alive until the kernel's deferred ring teardown, after our process may have exited;
            // the next VM on the image (ours or QEMU) then found it locked.
            if (_locked)
            {
                var unlock = new FileLockAbi.Flock { Type = FileLockAbi.F_UNLCK, Whence = FileLockAbi.SEEK_SET };
                Libc.FcntlLock(_fd, FileLockAbi.F_OFD_SETLK, ref unlock);
                _locked = false;
            }
            Libc.Close(_fd);
        }
        _fd = -1;
    }
}
