using Bhyve.Aot.IoUring;

namespace Bhyve.Aot.Storage;

/// <summary>Chooses the block engine: io_uring when a ring sets up and supports READV, WRITEV, FSYNC and FALLOCATE
/// (the needed opcodes in BlockEngineRequirements), else the synchronous fallback.</summary>
public static class BlockEngineFactory
{
    /// <summary>
    /// Creates the engine for one queue. Auto tries io_uring and falls back when setup, the opcode probe or
    /// registration fails (io_uring_disabled, seccomp, an old kernel); reason then says why, else it is null.
    /// IoUring fails loudly instead of falling back.
    /// </summary>
    public static IBlockEngine Create(BlockFile file, BlockEngineOptions options, BlockEngineKind kind, out string? fallbackReason)
    {
        fallbackReason = null;
        if (kind == BlockEngineKind.Synchronous) return new SyncBlockEngine(file, options);
        try
        {
            return new IoUringBlockEngine(file, options);
        }
        catch (IoUringException e) when (kind == BlockEngineKind.Auto)
        {
            fallbackReason = e.Message;
            return new SyncBlockEngine(file, options);
        }
    }

    public static IBlockEngine Create(BlockFile file, BlockEngineOptions options) => Create(file, options, BlockEngineKind.Auto, out _);
}
