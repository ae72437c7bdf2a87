using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

/// <summary>Both engines against real files: the same answers from io_uring and from the synchronous fallback.</summary>
public unsafe class BlockEngineTests
{
    public static TheoryData<BlockEngineKind> Engines => new() { BlockEngineKind.IoUring, BlockEngineKind.Synchronous };

    private const ulong FileSize = 1 << 20;

    private static byte Pattern(ulong fileOffset) => (byte)((fileOffset * 31) ^ (fileOffset >> 9));

    [Theory, MemberData(nameof(Engines))]
    public void MultiSegmentWritesReadBack(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(64 << 10);
        Span<IoVec> iov = stackalloc IoVec[3];
        Span<IoVec> back = stackalloc IoVec[2];

        foreach (ulong offset in (ulong[])[0, 512, 4096, 7 * 512, 65536 + 512, FileSize - 4096])
        {
            // Write 4 KiB as three uneven segments scattered through "guest RAM".
            int[] lengths = [512, 1024, 2560];
            int[] places = [0, 8192, 20000];
            ulong at = offset;
            for (int s = 0; s < 3; s++)
            {
                for (int i = 0; i < lengths[s]; i++) ram.Span[places[s] + i] = Pattern(at + (ulong)i);
                iov[s] = ram.At(places[s], lengths[s]);
                at += (ulong)lengths[s];
            }
            Assert.Equal(4096, EngineDriver.Write(engine, offset, iov));

            // Read it back through a different split.
            back[0] = ram.At(32768, 1536);
            back[1] = ram.At(40000, 2560);
            ram.Span[32768..].Clear();
            Assert.Equal(4096, EngineDriver.Read(engine, offset, back));
            for (int i = 0; i < 1536; i++) Assert.Equal(Pattern(offset + (ulong)i), ram.Span[32768 + i]);
            for (int i = 0; i < 2560; i++) Assert.Equal(Pattern(offset + 1536 + (ulong)i), ram.Span[40000 + i]);
        }
        byte[] onDisk = File.ReadAllBytes(file.Path);
        Assert.Equal(Pattern(65536 + 512 + 100), onDisk[65536 + 512 + 100]);
    }

    [Theory, MemberData(nameof(Engines))]
    public void FlushAndFuaWritesSucceed(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(4096);
        ram.Span.Fill(0x5A);
        Assert.Equal(4096, EngineDriver.Write(engine, 8192, [ram.At(0, 4096)], fua: true));
        Assert.True(engine.TryFlush(99));
        var c = EngineDriver.WaitOne(engine);
        Assert.Equal(new BlockCompletion(99, 0), c);
        Assert.Equal(0x5A, File.ReadAllBytes(file.Path)[8192 + 4095]);
    }

    [Theory, MemberData(nameof(Engines))]
    public void DiscardPunchesAHole(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        Assert.True(file.CanDiscard);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(256 << 10);
        ram.Span.Fill(0xEE);
        Assert.Equal(256 << 10, EngineDriver.Write(engine, 0, [ram.At(0, 256 << 10)], fua: true));
        ulong before = EngineDriver.AllocatedBlocks(file.Path);

        Assert.True(engine.TryDiscard(0, 256 << 10, 5));
        Assert.Equal(new BlockCompletion(5, 0), EngineDriver.WaitOne(engine));
        Assert.True(EngineDriver.AllocatedBlocks(file.Path) < before);
        Assert.Equal(256 << 10, EngineDriver.Read(engine, 0, [ram.At(0, 256 << 10)]));
        Assert.True(ram.Span.IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(FileSize, (ulong)new FileInfo(file.Path).Length); // KEEP_SIZE
    }

    [Theory]
    [InlineData(BlockEngineKind.IoUring, false)]
    [InlineData(BlockEngineKind.IoUring, true)]
    [InlineData(BlockEngineKind.Synchronous, false)]
    [InlineData(BlockEngineKind.Synchronous, true)]
    public void WriteZeroesReadsZero(BlockEngineKind kind, bool mayUnmap)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        Assert.True(file.CanWriteZeroes);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(64 << 10);
        ram.Span.Fill(0x11);
        Assert.Equal(64 << 10, EngineDriver.Write(engine, 4096, [ram.At(0, 64 << 10)]));

        Assert.True(engine.TryWriteZeroes(4096 + 512, 32 << 10, mayUnmap, 6));
        Assert.Equal(new BlockCompletion(6, 0), EngineDriver.WaitOne(engine));
        Assert.Equal(64 << 10, EngineDriver.Read(engine, 4096, [ram.At(0, 64 << 10)]));
        Assert.True(ram.Span[..512].IndexOfAnyExcept((byte)0x11) < 0);
        Assert.True(ram.Span.Slice(512, 32 << 10).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(ram.Span[(512 + (32 << 10))..].IndexOfAnyExcept((byte)0x11) < 0);
    }

    [Theory, MemberData(nameof(Engines))]
    public void ReadPastTheEndIsShort(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(8192);
        Assert.Equal(0, EngineDriver.Read(engine, FileSize, [ram.At(0, 4096)]));
        Assert.Equal(4096, EngineDriver.Read(engine, FileSize - 4096, [ram.At(0, 8192)]));
    }

    [Theory, MemberData(nameof(Engines))]
    public void WriteToAReadOnlyFileIsEbadf(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        string path = scratch.PathOf("disk.img");
        BlockFile.Create(path, FileSize).Dispose();
        using var file = BlockFile.Open(path, readOnly: true);
        Assert.False(file.CanDiscard);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(4096);
        Assert.Equal(-Libc.EBADF, EngineDriver.Write(engine, 0, [ram.At(0, 4096)]));
        Assert.Equal(4096, EngineDriver.Read(engine, 0, [ram.At(0, 4096)]));
    }

    [Theory, MemberData(nameof(Engines))]
    public void FullEngineSaysSoAndEveryRequestCompletesOnce(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file, new BlockEngineOptions(QueueDepth: 8));
        using var ram = new NativeBuffer(8 * 4096);
        for (int i = 0; i < 8; i++) Assert.True(engine.TryRead((ulong)i * 4096, [ram.At(i * 4096, 4096)], (ulong)i));
        Assert.False(engine.TryRead(0, [ram.At(0, 4096)], 100));
        Assert.Equal(8, engine.InFlight);
        engine.Submit();

        Span<BlockCompletion> done = stackalloc BlockCompletion[16];
        int n = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); n < 8 && DateTime.UtcNow < deadline;) n += engine.Reap(done[n..]);
        Assert.Equal(8, n);
        ulong mask = 0;
        foreach (var c in done[..n])
        {
            Assert.Equal(4096, c.Result);
            mask |= 1UL << (int)c.UserData;
        }
        Assert.Equal(0xFFUL, mask);
        Assert.Equal(0, engine.InFlight);
        Assert.True(engine.TryRead(0, [ram.At(0, 4096)], 100));
        Assert.Equal(4096, EngineDriver.WaitOne(engine).Result);
    }

    [Theory, MemberData(nameof(Engines))]
    public void CompletionsSignalTheEventFd(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(4096);
        ulong value = 0;
        Assert.True(Libc.Read(engine.CompletionEventFd, &value, 8) < 0); // nothing yet (non-blocking)
        Assert.True(engine.TryRead(0, [ram.At(0, 4096)], 1));
        engine.Submit();
        nint got = -1;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); got < 0 && DateTime.UtcNow < deadline; Thread.Yield())
            got = Libc.Read(engine.CompletionEventFd, &value, 8);
        Assert.Equal(8, got);
        Assert.True(value >= 1);
        Span<BlockCompletion> done = stackalloc BlockCompletion[2];
        Assert.Equal(1, engine.Reap(done));
        engine.AcknowledgeCompletionSignal();
    }

    [Theory, MemberData(nameof(Engines))]
    public void TooManySegmentsCompleteWithEinval(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        using var engine = EngineDriver.Create(kind, file, new BlockEngineOptions(QueueDepth: 4, MaxSegments: 2));
        using var ram = new NativeBuffer(4096);
        Assert.Equal(-Libc.EINVAL, EngineDriver.Read(engine, 0, [ram.At(0, 512), ram.At(512, 512), ram.At(1024, 512)]));
        Assert.Equal(1024, EngineDriver.Read(engine, 0, [ram.At(0, 512), ram.At(512, 512)]));
    }

    [Theory, MemberData(nameof(Engines))]
    public void DirectIoBouncesMisalignedGuestBuffers(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize, direct: true);
        Assert.True(file.Direct);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(64 << 10);
        uint block = file.OffsetAlignment;

        // Aligned: straight to the file. Misaligned memory (odd address): through a bounce buffer.
        for (int i = 0; i < 8192; i++) ram.Span[i] = (byte)(i ^ 0x3C);
        Assert.Equal(8192, EngineDriver.Write(engine, block * 4, [ram.At(0, 8192)]));
        Assert.Equal(8192, EngineDriver.Read(engine, block * 4, [ram.At(16384 + 1, 4096), ram.At(32768 + 3, 4096)]));
        for (int i = 0; i < 4096; i++) Assert.Equal((byte)(i ^ 0x3C), ram.Span[16384 + 1 + i]);
        for (int i = 0; i < 4096; i++) Assert.Equal((byte)((i + 4096) ^ 0x3C), ram.Span[32768 + 3 + i]);

        ram.Span.Slice(40000 + 7, 4096).Fill(0x77);
        Assert.Equal(4096, EngineDriver.Write(engine, block * 64, [ram.At(40000 + 7, 4096)], fua: true));
        Assert.Equal(4096, EngineDriver.Read(engine, block * 64, [ram.At(0, 4096)]));
        Assert.True(ram.Span[..4096].IndexOfAnyExcept((byte)0x77) < 0);

        // A misaligned file offset cannot be bounced without read-modify-write.
        Assert.Equal(-Libc.EINVAL, EngineDriver.Read(engine, block * 4 + 1, [ram.At(0, 4096)]));
    }
}

/// <summary>
/// tmpfs has no FALLOC_FL_ZERO_RANGE. WRITE ZEROES that may not unmap (discard=ignore, or the guest did not allow
/// it) must still read as zero and must not free space: the engines write zeroes rather than punch a hole.
/// </summary>
public class WriteZeroesFallbackTests
{
    public static TheoryData<BlockEngineKind> Engines => new() { BlockEngineKind.IoUring, BlockEngineKind.Synchronous };

    [Theory, MemberData(nameof(Engines))]
    public unsafe void Without_unmap_tmpfs_keeps_its_space_and_reads_zero(BlockEngineKind kind)
    {
        if (!Directory.Exists("/dev/shm")) return;
        string path = Path.Combine("/dev/shm", "bhyve-aot-wz-" + Guid.NewGuid().ToString("N"));
        try
        {
            const int Size = 4 << 20;
            using var file = BlockFile.Create(path, Size);
            Assert.True(file.CanWriteZeroes);
            Assert.NotEqual(0, Libc.Fallocate(file.Fd, FallocateModes.ZeroRange, 0, 4096)); // really unsupported here
            using var engine = EngineDriver.Create(kind, file);
            using var ram = new NativeBuffer(Size);
            ram.Span.Fill(0x42);
            Assert.Equal(Size, EngineDriver.Write(engine, 0, [ram.At(0, Size)]));
            ulong allocated = EngineDriver.AllocatedBlocks(path);

            // Longer than one zero-page chunk and not a whole number of 64 KiB blocks.
            const int At = 4096, Length = (1 << 20) + (64 << 10) + 3 * 512 + (1 << 20);
            Assert.True(engine.TryWriteZeroes(At, Length, mayUnmap: false, 3));
            Assert.Equal(new BlockCompletion(3, 0), EngineDriver.WaitOne(engine));
            Assert.True(EngineDriver.AllocatedBlocks(path) >= allocated, "WRITE ZEROES without unmap freed space");

            ram.Span.Fill(0x99);
            Assert.Equal(Size, EngineDriver.Read(engine, 0, [ram.At(0, Size)]));
            Assert.True(ram.Span[..At].IndexOfAnyExcept((byte)0x42) < 0);
            Assert.True(ram.Span.Slice(At, Length).IndexOfAnyExcept((byte)0) < 0);
            Assert.True(ram.Span[(At + Length)..].IndexOfAnyExcept((byte)0x42) < 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public unsafe void With_unmap_tmpfs_punches_a_hole(BlockEngineKind kind)
    {
        if (!Directory.Exists("/dev/shm")) return;
        string path = Path.Combine("/dev/shm", "bhyve-aot-wz-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var file = BlockFile.Create(path, 1 << 20);
            using var engine = EngineDriver.Create(kind, file);
            using var ram = new NativeBuffer(1 << 20);
            ram.Span.Fill(0x42);
            Assert.Equal(1 << 20, EngineDriver.Write(engine, 0, [ram.At(0, 1 << 20)]));
            ulong allocated = EngineDriver.AllocatedBlocks(path);
            Assert.True(engine.TryWriteZeroes(0, 512 << 10, mayUnmap: true, 4));
            Assert.Equal(new BlockCompletion(4, 0), EngineDriver.WaitOne(engine));
            Assert.True(EngineDriver.AllocatedBlocks(path) < allocated);
            Assert.Equal(1 << 20, EngineDriver.Read(engine, 0, [ram.At(0, 1 << 20)]));
            Assert.True(ram.Span[..(512 << 10)].IndexOfAnyExcept((byte)0) < 0);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
