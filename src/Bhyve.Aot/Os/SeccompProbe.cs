using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>One raw system call, for `bhyve-aot seccomp-probe` (the filters' end-to-end test).</summary>
public static class SeccompProbe
{
    public static long Call(long number, long a1, long a2, long a3, out int errno)
    {
        long r = Libc.Syscall(number, a1, a2, a3, 0, 0, 0);
        errno = r < 0 ? Libc.LastErrno : 0;
        return r;
    }
}
