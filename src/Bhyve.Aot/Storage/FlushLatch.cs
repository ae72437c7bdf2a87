using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// The engines' shared rules for the backend's flush-error latch (the state itself lives in BlockFile):
/// which failures latch, and what a flush that finished after another one failed reports.
/// </summary>
internal static class FlushLatch
{
    /// <summary>
    /// A FUA write (RWF_DSYNC) that failed this way may have lost its own or earlier data in writeback: EIO, and
    /// ENOSPC/EDQUOT from delayed allocation. Refusals before any I/O (EINVAL, EBADF, ...) lose nothing.
    /// </summary>
    public static bool FuaLosesData(int result) =>
        result is -BlockAbi.EIO or -BlockAbi.ENOSPC or -BlockAbi.EDQUOT;

    /// <summary>
    /// A flush's answer once it finished: a success that raced a failure on another queue still fails, because the
    /// kernel reports a writeback error to one fdatasync only (the one that failed), not to every caller.
    /// </summary>
    public static int Result(BlockFile file, int result)
    {
        if (result < 0) return result;
        int latched = file.FlushError;
        return latched != 0 ? latched : result;
    }
}
