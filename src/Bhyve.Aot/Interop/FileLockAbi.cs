using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>
/// Open-file-description locks (fcntl F_OFD_SETLK, asm-generic/fcntl.h): owned by the open file, not the process,
/// so two disks of one VM and two VMs are told apart, and closing the fd (or exiting) releases them.
/// </summary>
internal static class FileLockAbi
{
    public const int F_OFD_GETLK = 36, F_OFD_SETLK = 37;
    public const short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    public const short SEEK_SET = 0;

    /// <summary>struct flock on x86-64: 32 bytes (l_type, l_whence, 4 bytes padding, l_start, l_len, l_pid, padding).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }
}

internal static partial class Libc
{
    // SAFETY: a binding only; the one caller below passes a pinned struct flock.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static unsafe partial int FcntlLock(int fd, int cmd, FileLockAbi.Flock* flock);

    /// <summary>Takes (or tests, with F_OFD_GETLK) a lock on the whole file; returns 0 or -1 with errno.</summary>
    // SAFETY: flock is pinned for the duration of the call; the kernel reads and writes exactly sizeof(struct flock).
    public static unsafe int FcntlLock(int fd, int cmd, ref FileLockAbi.Flock flock)
    {
        fixed (FileLockAbi.Flock* p = &flock) return FcntlLock(fd, cmd, p);
    }
}
