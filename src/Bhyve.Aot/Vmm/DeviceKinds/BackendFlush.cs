using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Vmm;

/// <summary>The last step of a block device's teardown: what the guest wrote reaches the disk, or the user is told it may not have.</summary>
internal static class BackendFlush
{
    /// <summary>fdatasync on a writable backend, then close it; returns null or one line naming the device and the error.</summary>
    public static string? FlushAndClose(BlockFile file, string who)
    {
        string? problem = null;
        if (!file.ReadOnly && Libc.Fdatasync(file.Fd) != 0)
            problem = $"{who}: flushing at exit failed ({Libc.Describe(Libc.LastErrno)}); data the guest wrote may not be on the disk";
        file.Dispose();
        return problem;
    }
}
