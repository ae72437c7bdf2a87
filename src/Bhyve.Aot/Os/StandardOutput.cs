using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>Whether our standard output can still be written, for telling a closed stdout from our own failures.</summary>
public static class StandardOutput
{
    /// <summary>A zero-byte write(2) to fd 1 fails with EBADF when it was closed (`>&amp;-`) and succeeds otherwise.</summary>
    // SAFETY: a zero-length write reads nothing from the one-byte local it is given.
    public static unsafe bool IsOpen()
    {
        byte b = 0;
        return Libc.Write(1, &b, 0) >= 0;
    }
}
