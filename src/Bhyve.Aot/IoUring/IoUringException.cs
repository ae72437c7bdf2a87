using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.IoUring;

/// <summary>An io_uring system call failed in a way the caller cannot retry (setup, mmap, register, a broken enter).</summary>
public sealed class IoUringException(string operation, int errno)
    : ErrnoException($"io_uring {operation}: {Libc.Describe(errno)}", operation, errno);
