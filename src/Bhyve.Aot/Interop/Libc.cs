using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>The few libc entry points the VMM needs, bound by source-generated P/Invoke (AOT-safe).</summary>
internal static partial class Libc
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CLOEXEC = 0x80000;
    public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000, MAP_HUGETLB = 0x40000;
    public const int MADV_DONTFORK = 10, MADV_HUGEPAGE = 14;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public const int ENOMEM = 12, ENFILE = 23, EMFILE = 24;
    public const int EINTR = 4, EAGAIN = 11, EBADF = 9, ENOENT = 2, EACCES = 13, E2BIG = 7, EINVAL = 22, ENOSYS = 38, EPERM = 1;
    public static readonly nint MAP_FAILED = -1;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nuint arg);

    // SAFETY: a binding only; callers pass the struct the request number encodes, on their stack or pinned
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static unsafe partial int Ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    // SAFETY: a binding only; callers pass a live buffer of at least count bytes
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, void* buf, nuint count);

    // SAFETY: a binding only; callers pass a live buffer of at least count bytes
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, void* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    public const int R_OK = 4, W_OK = 2;

    [LibraryImport("libc", EntryPoint = "isatty")]
    public static partial int Isatty(int fd);

    // SAFETY: a binding only; callers pass a Termios on their stack, sized for glibc's struct termios
    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    public static unsafe partial int Tcgetattr(int fd, Termios* termios);

    // SAFETY: a binding only; callers pass a Termios on their stack, sized for glibc's struct termios
    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    public static unsafe partial int Tcsetattr(int fd, int optionalActions, Termios* termios);

    // SAFETY: a binding only; callers pass a Termios on their stack, sized for glibc's struct termios
    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    public static unsafe partial void Cfmakeraw(Termios* termios);

    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>strerror text for an errno, without going through the C library's static buffer.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno) + $" (errno {errno})";
}
