using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// The one file every target works on: created from a size or taken from a path, filled with data so reads hit real
/// blocks (not holes), and reset before each discard series so every target deallocates the same kind of extents.
/// </summary>
public sealed class BackingFile : IDisposable
{
    private readonly bool _owned;

    private BackingFile(string path, long size, bool owned)
    {
        Path = path;
        Size = size;
        _owned = owned;
    }

    public string Path { get; }
    public long Size { get; }

    /// <summary>A new file of size bytes in directory (deleted on Dispose).</summary>
    public static BackingFile CreateTemporary(string directory, long size)
    {
        if (size < 1 << 20 || size % 4096 != 0) throw new BenchException($"--disk: a size must be at least 1M and a multiple of 4K (got {size} bytes)");
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(directory, $"bhyve-aot-bench-{Environment.ProcessId}.img");
        File.Delete(path);
        using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write)) f.SetLength(size);
        return new BackingFile(path, size, owned: true);
    }

    /// <summary>An existing regular file (kept on Dispose). Its contents are overwritten by the write workloads.</summary>
    public static BackingFile OpenExisting(string path)
    {
        var info = new FileInfo(path);
        if (Directory.Exists(path)) throw new BenchException($"--disk: {Os.InputFile.Escape(path)}: is a directory (give a path to an existing file, or a size such as 2G)");
        if (!info.Exists) throw new BenchException($"--disk: {Os.InputFile.Escape(path)}: {Os.InputFile.DescribeOpenFailure(path, 2)} (give a path to an existing file, or a size such as 2G)");
        if (info.Length < 1 << 20 || info.Length % 4096 != 0) throw new BenchException($"--disk: {path}: needs at least 1 MiB and a multiple of 4 KiB (it has {info.Length} bytes)");
        return new BackingFile(info.FullName, info.Length, owned: false);
    }

    /// <summary>Writes non-zero data over the whole file and syncs it, so reads are served by allocated blocks.</summary>
    public void Fill(Action<double>? progress = null)
    {
        byte[] chunk = new byte[1 << 20];
        for (int i = 0; i < chunk.Length; i++) chunk[i] = (byte)(i * 7 + 0xA5);
        using var f = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        for (long off = 0; off < Size; off += chunk.Length)
        {
            f.Write(chunk, 0, (int)Math.Min(chunk.Length, Size - off));
            progress?.Invoke((double)(off + chunk.Length) / Size);
        }
        f.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Before a discard series: punches [0, length) and allocates it again (fallocate mode 0, unwritten extents), so
    /// every target deallocates the same freshly allocated extents with no page-cache pages over them.
    /// </summary>
    public void ResetForDiscard(long length)
    {
        int fd = OpenFd();
        try
        {
            Check(Libc.Fallocate(fd, BlockAbi.FallocPunchHole | BlockAbi.FallocKeepSize, 0, length), "punch");
            Check(Libc.Fallocate(fd, 0, 0, length), "allocate");
            Check(Libc.Fdatasync(fd), "fdatasync");
        }
        finally { Libc.Close(fd); }
    }

    /// <summary>st_blocks: 512-byte units actually allocated to the file.</summary>
    // SAFETY: the path is NUL-terminated and pinned for the call; statx writes at most 256 bytes (Statx.Size) into the stack buffer of that size, and stx_blocks lies inside it
    public unsafe long AllocatedBlocks()
    {
        byte[] cPath = System.Text.Encoding.UTF8.GetBytes(Path + "\0");
        byte* buffer = stackalloc byte[256];
        fixed (byte* p = cPath)
        {
            long r = Libc.Syscall(Statx.SyscallNumber, Statx.AtFdCwd, (long)p, 0, BlockAbi.StatxMaskBlocks, (long)buffer, 0);
            if (r < 0) throw new BenchException($"{Path}: statx: {Libc.Describe(Libc.LastErrno)}");
        }
        return *(long*)(buffer + BlockAbi.StatxBlocksOffset);
    }

    /// <summary>Host fallocate(PUNCH_HOLE|KEEP_SIZE) of count consecutive ranges of size bytes; each call timed (µs).</summary>
    public double[] PunchSeries(long size, int count)
    {
        var samples = new double[count];
        int fd = OpenFd();
        try
        {
            for (int i = 0; i < count; i++)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                Check(Libc.Fallocate(fd, BlockAbi.FallocPunchHole | BlockAbi.FallocKeepSize, i * size, size), "punch");
                samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
        }
        finally { Libc.Close(fd); }
        return samples;
    }

    private int OpenFd()
    {
        int fd = Libc.Open(Path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0) throw new BenchException($"{Path}: open: {Libc.Describe(Libc.LastErrno)}");
        return fd;
    }

    private void Check(int rc, string what)
    {
        if (rc < 0) throw new BenchException($"{Path}: {what}: {Libc.Describe(Libc.LastErrno)}");
    }

    public void Dispose()
    {
        if (_owned) File.Delete(Path);
    }
}
