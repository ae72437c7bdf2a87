using Bhyve.Aot.Interop;
using Bhyve.Aot.IoUring;
using Bhyve.Aot.Tests.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.IoUring;

public unsafe class IoUringRingTests
{
    [Fact]
    public void SqeAndCqeMatchTheKernelLayout()
    {
        Assert.Equal(64, sizeof(IoUringSqe));
        Assert.Equal(16, sizeof(IoUringCqe));
        Assert.Equal(16, sizeof(Bhyve.Aot.Storage.IoVec));
    }

    [Fact]
    public void NopsCompleteWithTheirUserData()
    {
        using var ring = new IoUringRing(32);
        Assert.True(ring.NoDrop);
        const int N = 100;
        var seen = new bool[N];
        Span<IoUringCqe> cqes = stackalloc IoUringCqe[16];
        int submitted = 0, reaped = 0;
        while (reaped < N)
        {
            // Batches: fill as many SQEs as fit, then one io_uring_enter.
            while (submitted < N)
            {
                IoUringSqe* sqe = ring.TryGetSqe();
                if (sqe == null) break;
                sqe->Opcode = IoUringOp.Nop;
                sqe->UserData = 1000UL + (ulong)submitted++;
            }
            ring.Submit();
            ring.WaitForCompletion();
            int n = ring.Reap(cqes);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(0, cqes[i].Res);
                int id = (int)(cqes[i].UserData - 1000);
                Assert.False(seen[id]);
                seen[id] = true;
            }
            reaped += n;
        }
        Assert.DoesNotContain(false, seen);
    }

    [Fact]
    public void FullSqSaysSoAndFreesUpAfterSubmit()
    {
        using var ring = new IoUringRing(8);
        Assert.Equal(8u, ring.SqEntries);
        for (int i = 0; i < 8; i++)
        {
            IoUringSqe* sqe = ring.TryGetSqe();
            Assert.True(sqe != null);
            sqe->Opcode = IoUringOp.Nop;
            sqe->UserData = (ulong)i;
        }
        Assert.True(ring.TryGetSqe() == null);
        Assert.Equal(8u, ring.Unsubmitted);
        Assert.Equal(8, ring.Submit());
        Assert.Equal(0u, ring.Unsubmitted);
        Assert.True(ring.TryGetSqe() != null);
    }

    [Fact]
    public void CompletionsBeyondTheCqAreNotLost()
    {
        // 64 NOPs against a 16-entry CQ without reaping in between: the kernel parks the rest (NODROP) and Reap
        // pulls them back in with io_uring_enter(GETEVENTS).
        using var ring = new IoUringRing(8, 16);
        Assert.Equal(16u, ring.CqEntries);
        const int N = 64;
        for (int batch = 0; batch < N / 8; batch++)
        {
            for (int i = 0; i < 8; i++)
            {
                IoUringSqe* sqe = ring.TryGetSqe();
                Assert.True(sqe != null);
                sqe->Opcode = IoUringOp.Nop;
                sqe->UserData = (ulong)(batch * 8 + i);
            }
            // A kernel that pushes back (EBUSY while its overflow list is full) keeps the SQEs; try again.
            for (int tries = 0; ring.Unsubmitted != 0 && tries < 100; tries++) ring.Submit();
            Assert.Equal(0u, ring.Unsubmitted);
        }
        var seen = new bool[N];
        Span<IoUringCqe> cqes = stackalloc IoUringCqe[N];
        int total = 0;
        for (int tries = 0; total < N && tries < 1000; tries++) total += ring.Reap(cqes[total..]);
        Assert.Equal(N, total);
        foreach (var c in cqes) seen[c.UserData] = true;
        Assert.DoesNotContain(false, seen);
        Assert.Equal(0u, ring.CqDropped);
    }

    [Fact]
    public void ReadsThroughARegisteredFile()
    {
        using var scratch = new StorageScratch();
        string path = scratch.PathOf("data");
        byte[] data = new byte[8192];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7);
        File.WriteAllBytes(path, data);
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        Assert.True(fd >= 0);
        try
        {
            using var ring = new IoUringRing(8);
            ring.RegisterFiles([fd]);
            using var buffer = new NativeBuffer(8192);
            for (int i = 0; i < 2; i++)
            {
                IoUringSqe* sqe = ring.TryGetSqe();
                sqe->Opcode = IoUringOp.Read;
                sqe->Flags = IoUringAbi.SqeFixedFile;
                sqe->Fd = 0;
                sqe->Off = (ulong)(i * 4096);
                sqe->Addr = (ulong)(buffer.Pointer + i * 4096);
                sqe->Len = 4096;
                sqe->UserData = 42 + (ulong)i;
            }
            Assert.Equal(2, ring.Submit(2));
            Span<IoUringCqe> cqes = stackalloc IoUringCqe[4];
            int n = 0;
            while (n < 2) n += ring.Reap(cqes[n..]);
            Assert.Equal(4096, cqes[0].Res);
            Assert.Equal(4096, cqes[1].Res);
            Assert.Equal(85UL, cqes[0].UserData + cqes[1].UserData);
            Assert.True(buffer.Span.SequenceEqual(data));
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public void KnowsTheEngineOpcodes()
    {
        using var ring = new IoUringRing(4);
        Assert.True(ring.Supports(IoUringOp.Readv));
        Assert.True(ring.Supports(IoUringOp.Fallocate));
        Assert.False(ring.Supports((IoUringOp)255));
    }
}
