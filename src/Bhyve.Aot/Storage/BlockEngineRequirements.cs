using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Storage;

/// <summary>
/// What the io_uring block engine needs from the kernel, and the engines' names. The engine checks the needed
/// opcodes when it sets up; `bhyve-aot check` (Host/IoUringProbe) reports the same list, so the two cannot disagree.
/// </summary>
public static class BlockEngineRequirements
{
    public const string IoUringEngine = "io_uring";
    public const string SynchronousEngine = "synchronous fallback";

    /// <summary>The opcodes the engine uses; without a Needed one it cannot run and Auto falls back to the synchronous engine.</summary>
    public static IReadOnlyList<(IoUringOp Op, string Name, bool Needed)> Opcodes { get; } =
    [
        (IoUringOp.Readv, "READV", true),
        (IoUringOp.Writev, "WRITEV", true),
        (IoUringOp.Fsync, "FSYNC", true),
        (IoUringOp.ReadFixed, "READ_FIXED", false),
        (IoUringOp.WriteFixed, "WRITE_FIXED", false),
        (IoUringOp.Fallocate, "FALLOCATE", true),
        (IoUringOp.Read, "READ", false),
        (IoUringOp.Write, "WRITE", false),
    ];
}
