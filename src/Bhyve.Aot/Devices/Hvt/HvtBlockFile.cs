using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// An hvt block device backed by a file or block device, through the synchronous block engine: hvt block
/// hypercalls are synchronous, so each transfer is done before the vCPU resumes. Capacity is the file's size,
/// the block size 512 bytes, as solo5-hvt's defaults.
/// </summary>
public sealed class HvtBlockFile : IHvtBlockBackend
{
    public const ushort DefaultBlockSize = 512;
    // Engine results are ints: larger guest buffers go in pieces.
    private const ulong MaxTransfer = 1 << 30;

    private readonly BlockFile _file;
    private readonly IBlockEngine _engine;
    private readonly BlockCompletion[] _completion = new BlockCompletion[1];

    private HvtBlockFile(BlockFile file)
    {
        _file = file;
        _engine = new SyncBlockEngine(file, new BlockEngineOptions(QueueDepth: 1, MaxSegments: 1, BounceBuffers: 1));
    }

    public ulong Capacity => _file.Size;
    public ushort BlockSize => DefaultBlockSize;

    /// <summary>Opens the backing store and checks the sizes solo5-hvt checks; throws BlockFileException with the reason.</summary>
    public static HvtBlockFile Open(string name, string path)
    {
        var file = BlockFile.Open(path);
        if (file.Size < DefaultBlockSize || file.Size % DefaultBlockSize != 0)
        {
            ulong size = file.Size;
            file.Dispose();
            throw new BlockFileException(size < DefaultBlockSize
                ? $"{name}: backing storage must be at least 1 block ({DefaultBlockSize} bytes) in size; {path} has {size}"
                : $"{name}: backing storage size must be block aligned ({DefaultBlockSize} bytes); {path} has {size}");
        }
        return new HvtBlockFile(file);
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
