using Bhyve.Aot.Interop;

namespace Bhyve.Aot.IoUring;

/// <summary>An io_uring system call failed in a way the caller cannot retry (setup, mmap, register, a broken enter).</summary>
public sealed class IoUringException(string operation, int errno)
    : Exception($"io_uring {operation}: {Libc.Describe(errno)}")
{
    public int Errno { get; } = errno;
}
