using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The file system calls of the synchronous engine, each answering bytes moved (or 0) or -errno. A seam: tests
/// inject the EINTR, EAGAIN and EIO answers that a healthy host never gives on demand. The default goes to libc.
/// </summary>
internal class BlockSyscalls
{
    public static readonly BlockSyscalls Host = new();

    // SAFETY: forwards the caller's iovecs, which name live, checked buffers (SyncBlockEngine.Move)
    public virtual unsafe nint Preadv(int fd, IoVec* iov, int count, long offset)
    {
        nint r = Libc.Preadv(fd, iov, count, offset);
        return r < 0 ? -Libc.LastErrno : r;
    }

    // SAFETY: forwards the caller's iovecs, which name live, checked buffers (SyncBlockEngine.Move)
    public virtual unsafe nint Pwritev2(int fd, IoVec* iov, int count, long offset, int flags)
    {
        nint r = Libc.Pwritev2(fd, iov, count, offset, flags);
        return r < 0 ? -Libc.LastErrno : r;
    }

    public virtual int Fdatasync(int fd) => Libc.Fdatasync(fd) == 0 ? 0 : -Libc.LastErrno;

    public virtual int Fallocate(int fd, int mode, long offset, long length) =>
        Libc.Fallocate(fd, mode, offset, length) == 0 ? 0 : -Libc.LastErrno;
}
