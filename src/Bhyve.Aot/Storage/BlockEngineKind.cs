namespace Bhyve.Aot.Storage;

/// <summary>Which engine to use: Auto picks io_uring when the host supports it.</summary>
public enum BlockEngineKind
{
    Auto,
    IoUring,
    Synchronous,
}
