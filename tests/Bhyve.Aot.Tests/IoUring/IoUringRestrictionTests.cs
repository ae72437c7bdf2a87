using Bhyve.Aot.Interop;
using Bhyve.Aot.IoUring;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.IoUring;

/// <summary>
/// The block engine's ring is created disabled, restricted to its opcodes on its registered file, then enabled:
/// the kernel itself refuses anything else. Where setup cannot start a ring disabled (before 5.10) the engine falls
/// back to an unrestricted ring that still works.
/// </summary>
public unsafe class IoUringRestrictionTests
{
    private const int NoSuchUserData = 0x5EC;

    private static (StorageScratch, BlockFile, IoUringBlockEngine) Engine(uint simulateUnsupported = 0)
    {
        var scratch = new StorageScratch();
        var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        return (scratch, file, new IoUringBlockEngine(file, BlockEngineOptions.Default, simulateUnsupported));
    }

    /// <summary>Submits one raw SQE on the engine's ring and returns its CQE's result.</summary>
    private static int SubmitRaw(IoUringRing ring, IoUringOp op, byte flags, int fd, ulong addr = 0, uint len = 0)
    {
        IoUringSqe* sqe = ring.TryGetSqe();
        Assert.True(sqe != null);
        sqe->Opcode = op;
        sqe->Flags = flags;
        sqe->Fd = fd;
        sqe->Addr = addr;
        sqe->Len = len;
        sqe->UserData = NoSuchUserData;
        ring.Submit();
        ring.WaitForCompletion();
        Span<IoUringCqe> cqe = stackalloc IoUringCqe[1];
        Assert.Equal(1, ring.Reap(cqe));
        Assert.Equal((ulong)NoSuchUserData, cqe[0].UserData);
        return cqe[0].Res;
    }

    [Fact]
    public void The_engine_ring_is_restricted_on_this_host()
    {
        var (scratch, file, engine) = Engine();
        using (scratch) using (file) using (engine)
        {
            // Kernel 5.10+ (this host runs a far newer one): setup with R_DISABLED and restrictions must succeed.
            Assert.True(engine.Ring.StartedDisabled);
            Assert.True(engine.Restricted);
        }
    }

    [Fact]
    public void An_opcode_outside_the_list_is_refused_by_the_kernel()
    {
        var (scratch, file, engine) = Engine();
        using (scratch) using (file) using (engine)
        {
            byte* path = stackalloc byte[] { (byte)'/', 0 };
            // openat on the fixed file index: not in RingOpcodes.
            Assert.Equal(-Libc.EACCES, SubmitRaw(engine.Ring, IoUringOp.OpenAt, IoUringAbi.SqeFixedFile, 0, (ulong)path));
            // READ (not READV) is not in the list either, even on the registered file.
            Assert.Equal(-Libc.EACCES, SubmitRaw(engine.Ring, IoUringOp.Read, IoUringAbi.SqeFixedFile, 0));
            // An allowed opcode still works.
            Assert.Equal(0, SubmitRaw(engine.Ring, IoUringOp.Nop, IoUringAbi.SqeFixedFile, 0));
        }
    }

    [Fact]
    public void A_file_descriptor_that_is_not_registered_is_refused()
    {
        var (scratch, file, engine) = Engine();
        using (scratch) using (file) using (engine)
        {
            using var ram = new NativeBuffer(4096);
            var iov = ram.At(0, 4096);
            // READV on the raw fd (no IOSQE_FIXED_FILE): the flag is required, so the kernel says EACCES.
            Assert.Equal(-Libc.EACCES, SubmitRaw(engine.Ring, IoUringOp.Readv, 0, file.Fd, (ulong)&iov, 1));
            // And no more files can be registered once the ring runs.
            var e = Assert.Throws<IoUringException>(() => engine.Ring.RegisterFiles([file.Fd]));
            Assert.Contains("register files", e.Message);
        }
    }

    [Fact]
    public void Without_disabled_rings_the_engine_falls_back_to_an_unrestricted_ring_that_works()
    {
        var (scratch, file, engine) = Engine(simulateUnsupported: IoUringAbi.SetupRDisabled);
        using (scratch) using (file) using (engine)
        {
            Assert.False(engine.Ring.StartedDisabled);
            Assert.False(engine.Restricted);
            using var ram = new NativeBuffer(4096);
            ram.Span.Fill(0x77);
            Assert.Equal(4096, EngineDriver.Write(engine, 0, [ram.At(0, 4096)], fua: true));
            ram.Span.Clear();
            Assert.Equal(4096, EngineDriver.Read(engine, 0, [ram.At(0, 4096)]));
            Assert.True(ram.Span.IndexOfAnyExcept((byte)0x77) < 0);
        }
    }

    [Fact]
    public void A_restricted_engine_still_does_everything_it_offers()
    {
        var (scratch, file, engine) = Engine();
        using (scratch) using (file) using (engine)
        {
            using var ram = new NativeBuffer(8192);
            ram.Span.Fill(0x21);
            Assert.Equal(8192, EngineDriver.Write(engine, 4096, [ram.At(0, 4096), ram.At(4096, 4096)], fua: true));
            Assert.True(engine.TryFlush(1));
            Assert.Equal(new BlockCompletion(1, 0), EngineDriver.WaitOne(engine));
            Assert.True(engine.TryDiscard(4096, 4096, 2));
            Assert.Equal(new BlockCompletion(2, 0), EngineDriver.WaitOne(engine));
            Assert.True(engine.TryWriteZeroes(8192, 4096, mayUnmap: false, 3));
            Assert.Equal(new BlockCompletion(3, 0), EngineDriver.WaitOne(engine));
            Assert.True(engine.TryRead(0, [], 4)); // rejected up front: completes through a NOP
            Assert.Equal(new BlockCompletion(4, -Libc.EINVAL), EngineDriver.WaitOne(engine));
            Assert.Equal(0u, engine.Ring.CqDropped);
        }
    }
}
