using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// An hvt block device backed by a file or block device, through the synchronous block engine: hvt block
/// hypercalls are synchronous, so each transfer is done before the vCPU resumes. Capacity is the file's size;
/// the block size is 512 bytes unless given (solo5-hvt's --block-sector-size: a power of two of at least 512).
/// </summary>
public sealed class HvtBlockFile : IHvtBlockBackend
{
    public const ushort DefaultBlockSize = 512;
    // Engine results are ints: larger guest buffers go in pieces.
    private const ulong MaxTransfer = 1 << 30;

    private readonly BlockFile _file;
    private readonly IBlockEngine _engine;
    private readonly BlockCompletion[] _completion = new BlockCompletion[1];

    private HvtBlockFile(BlockFile file, ushort blockSize)
    {
        _file = file;
        BlockSize = blockSize;
        _engine = new SyncBlockEngine(file, new BlockEngineOptions(QueueDepth: 1, MaxSegments: 1, BounceBuffers: 1));
    }

    public ulong Capacity => _file.Size;
    public ushort BlockSize { get; }

    /// <summary>Why solo5-hvt refuses this --block-sector-size, or null (hvt_module_blk.c's check and words).</summary>
    public static string? CheckBlockSize(uint blockSize) =>
        blockSize < 512 || blockSize > ushort.MaxValue || (blockSize & (blockSize - 1)) != 0
            ? "Block size must be a multiple of 2 greater than or equal 512"
            : null;

    /// <summary>
    /// Why solo5-hvt refuses backing storage of this size for this block size, or null: in its order and words
    /// (alignment first, then at least one block).
    /// </summary>
    public static string? CheckCapacity(string name, ulong capacity, ushort blockSize)
    {
        if (capacity % blockSize != 0) return $"{name}: Backing storage size must be block aligned ({blockSize} bytes)";
        if (capacity < blockSize) return $"{name}: Backing storage must be at least 1 block ({blockSize} bytes) in size";
        return null;
    }

    /// <summary>Opens the backing store and checks the sizes solo5-hvt checks; throws BlockFileException with the reason.</summary>
    public static HvtBlockFile Open(string name, string path, ushort blockSize = DefaultBlockSize)
    {
        if (CheckBlockSize(blockSize) is { } badSize) throw new BlockFileException(badSize);
        // A regular file's size is checked before BlockFile's own (512-byte) checks, so the refusal is solo5-hvt's.
        if (File.Exists(path) && CheckCapacity(name, (ulong)new FileInfo(path).Length, blockSize) is { } early)
            throw new BlockFileException(early);
        var file = BlockFile.Open(path);
        if (CheckCapacity(name, file.Size, blockSize) is { } problem)
        {
            file.Dispose();
            throw new BlockFileException(problem);
        }
        return new HvtBlockFile(file, blockSize);
    }

    // SAFETY: HvtHypercalls passes a buffer it checked with Out(data, length): length bytes of guest RAM clear of read-only pages
    public unsafe int Read(ulong offset, byte* buffer, ulong length) => Transfer(write: false, offset, buffer, length);

    // SAFETY: HvtHypercalls passes a buffer it checked with In(data, length): length bytes of guest RAM
    public unsafe int Write(ulong offset, byte* buffer, ulong length) => Transfer(write: true, offset, buffer, length);

    // SAFETY: each chunk [done, done + chunk) lies inside the caller's checked length bytes
    private unsafe int Transfer(bool write, ulong offset, byte* buffer, ulong length)
    {
        for (ulong done = 0; done < length;)
        {
            ulong chunk = Math.Min(length - done, MaxTransfer);
            ReadOnlySpan<IoVec> iov = [new IoVec((nint)(buffer + done), (nuint)chunk)];
            bool accepted = write ? _engine.TryWrite(offset + done, iov, fua: false, 0) : _engine.TryRead(offset + done, iov, 0);
            if (!accepted || _engine.Reap(_completion) != 1) return Solo5Result.Unspecified;
            // A short or failed transfer is an I/O error to the guest (solo5-hvt would abort the tender instead).
            if (_completion[0].Result != (int)chunk) return Solo5Result.Unspecified;
            done += chunk;
        }
        _engine.Submit();
        _engine.AcknowledgeCompletionSignal();
        return Solo5Result.Ok;
    }

    public void Dispose()
    {
        _engine.Dispose();
        _file.Dispose();
    }
}
