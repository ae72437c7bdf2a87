using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Vmm;

/// <summary>The last step of a block device's teardown: what the guest wrote reaches the disk, or the user is told it may not have.</summary>
internal static class BackendFlush
{
    /// <summary>
    /// fdatasync on a writable backend, then close it. Returns null, or the file's one-line flush report when any
    /// flush failed, during the run (latched, the guest was told) or now.
    /// </summary>
    public static string? FlushAndClose(BlockFile file)
    {
        if (!file.ReadOnly) file.Flush();
        string? problem = file.FlushFailureReport();
        file.Dispose();
        return problem;
    }
}
