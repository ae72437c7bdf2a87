namespace Bhyve.Aot.Storage;

/// <summary>Sizes of a block engine's preallocated state.</summary>
/// <param name="QueueDepth">requests in flight at once (the engine's Capacity; the io_uring SQ size).</param>
/// <param name="MaxSegments">iovec segments per request; longer requests complete with -EINVAL.</param>
/// <param name="BounceBuffers">O_DIRECT only: aligned buffers for requests whose guest buffers are misaligned.</param>
/// <param name="BounceBufferBytes">O_DIRECT only: size of each bounce buffer; a larger misaligned request gets -EINVAL.</param>
public readonly record struct BlockEngineOptions(
    int QueueDepth = 128,
    int MaxSegments = 256,
    int BounceBuffers = 8,
    int BounceBufferBytes = 1 << 20)
{
    public static BlockEngineOptions Default => new(128, 256, 8, 1 << 20);
}
