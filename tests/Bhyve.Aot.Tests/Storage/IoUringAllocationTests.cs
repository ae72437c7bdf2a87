using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

public unsafe class IoUringAllocationTests
{
    [Fact]
    public void SteadyStateReadsAllocateNothing()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        using var engine = new IoUringBlockEngine(file, BlockEngineOptions.Default);
        using var ram = new NativeBuffer(4096);
        var iov = new IoVec((nint)ram.Pointer, 4096);

        RunReads(engine, iov, 200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunReads(engine, iov, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    private static void RunReads(IBlockEngine engine, IoVec iov, int count)
    {
        Span<IoVec> one = stackalloc IoVec[1];
        one[0] = iov;
        Span<BlockCompletion> done = stackalloc BlockCompletion[4];
        for (int i = 0; i < count; i++)
        {
            if (!engine.TryRead((ulong)(i % 256) * 4096, one, (ulong)i)) throw new InvalidOperationException("full");
            engine.Submit();
            while (engine.Reap(done) == 0) { }
            if (done[0].Result != 4096) throw new InvalidOperationException("short read");
        }
    }
}
