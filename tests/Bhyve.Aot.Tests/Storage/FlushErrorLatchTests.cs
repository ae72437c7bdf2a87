using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

/// <summary>
/// After a failed flush, Linux may have dropped the dirty pages and reports the error to one fdatasync only; the
/// engines must keep failing every FLUSH and FUA write until the device is reset (BlockFile.ClearFlushError).
/// </summary>
public unsafe class FlushErrorLatchTests
{
    public static TheoryData<BlockEngineKind> Engines => new() { BlockEngineKind.IoUring, BlockEngineKind.Synchronous };

    [FailingBlockDeviceTheory, MemberData(nameof(Engines))]
    public void A_real_writeback_failure_keeps_failing_flush_and_fua_until_reset(BlockEngineKind kind)
    {
        using var device = new FailingBlockDevice();
        using var file = BlockFile.Open(device.DevicePath);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(1 << 20);
        ram.Span.Fill(0x6B);
        Assert.Equal(1 << 20, EngineDriver.Write(engine, 0, [ram.At(0, 1 << 20)])); // page cache only

        int first = Flush(engine);
        Assert.True(first < 0, $"the first flush should fail (backing tmpfs is full), got {first}");
        // The kernel would now say 0: the error was reported once. The latch keeps saying it.
        Assert.Equal(first, Flush(engine));
        Assert.Equal(first, EngineDriver.Write(engine, 0, [ram.At(0, 4096)], fua: true));
        Assert.Equal(4096, EngineDriver.Write(engine, 0, [ram.At(0, 4096)])); // no promise, no failure
        Assert.Equal(first, file.FlushError);

        file.ClearFlushError(); // the device was reset
        Assert.Equal(0, Flush(engine));
        Assert.Equal(1, file.FlushFailures);
        Assert.Contains("1 flush failed", file.FlushFailureReport());
    }

    [Fact]
    public void A_flush_that_fails_once_keeps_failing_in_the_synchronous_engine()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        var sys = new ScriptedSyscalls { FdatasyncAnswers = [-BlockAbi.EIO] };
        using var engine = new SyncBlockEngine(file, BlockEngineOptions.Default, sys);
        Assert.Equal(-BlockAbi.EIO, Flush(engine));
        Assert.Equal(-BlockAbi.EIO, Flush(engine));
        Assert.Equal(1, sys.FdatasyncCalls); // the latched answer needs no syscall
    }

    [Theory, MemberData(nameof(Engines))]
    public void A_latched_error_fails_flush_and_fua_but_not_plain_writes(BlockEngineKind kind)
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        using var engine = EngineDriver.Create(kind, file);
        using var ram = new NativeBuffer(4096);
        file.LatchFlushError(-BlockAbi.ENOSPC);
        Assert.Equal(-BlockAbi.ENOSPC, Flush(engine));
        Assert.Equal(-BlockAbi.ENOSPC, EngineDriver.Write(engine, 0, [ram.At(0, 4096)], fua: true));
        Assert.Equal(4096, EngineDriver.Write(engine, 0, [ram.At(0, 4096)]));
        Assert.Equal(-BlockAbi.ENOSPC, file.Flush()); // the control path (NVMe shutdown while disabled) too
        file.ClearFlushError();
        Assert.Equal(0, Flush(engine));
        Assert.Equal(0, file.Flush());
    }

    [Fact]
    public void A_fua_write_whose_sync_fails_latches()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        var sys = new ScriptedSyscalls { Pwritev2Answers = [-BlockAbi.EIO] };
        using var engine = new SyncBlockEngine(file, BlockEngineOptions.Default, sys);
        using var ram = new NativeBuffer(4096);
        Assert.Equal(-BlockAbi.EIO, EngineDriver.Write(engine, 0, [ram.At(0, 4096)], fua: true));
        Assert.Equal(-BlockAbi.EIO, Flush(engine));
        Assert.Equal(0, sys.FdatasyncCalls);
    }

    [Fact]
    public void A_flush_that_succeeds_after_another_failed_reports_the_failure()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        Assert.Equal(0, FlushLatch.Result(file, 0));
        file.LatchFlushError(-BlockAbi.EIO); // another queue's flush failed while this one was in the kernel
        Assert.Equal(-BlockAbi.EIO, FlushLatch.Result(file, 0));
    }

    private static int Flush(IBlockEngine engine)
    {
        Assert.True(engine.TryFlush(42));
        var c = EngineDriver.WaitOne(engine);
        Assert.Equal(42ul, c.UserData);
        return c.Result;
    }
}

/// <summary>Answers the synchronous engine's syscalls from scripts (one entry per call, then the real call).</summary>
internal sealed unsafe class ScriptedSyscalls : BlockSyscalls
{
    public List<int> PreadvAnswers = [], Pwritev2Answers = [], FdatasyncAnswers = [], FallocateAnswers = [];
    public int PreadvCalls, Pwritev2Calls, FdatasyncCalls, FallocateCalls;

    private static bool Next(List<int> script, out int answer)
    {
        answer = 0;
        if (script.Count == 0) return false;
        answer = script[0];
        script.RemoveAt(0);
        return true;
    }

    public override nint Preadv(int fd, IoVec* iov, int count, long offset)
    {
        PreadvCalls++;
        return Next(PreadvAnswers, out int r) ? r : base.Preadv(fd, iov, count, offset);
    }

    public override nint Pwritev2(int fd, IoVec* iov, int count, long offset, int flags)
    {
        Pwritev2Calls++;
        return Next(Pwritev2Answers, out int r) ? r : base.Pwritev2(fd, iov, count, offset, flags);
    }

    public override int Fdatasync(int fd)
    {
        FdatasyncCalls++;
        return Next(FdatasyncAnswers, out int r) ? r : base.Fdatasync(fd);
    }

    public override int Fallocate(int fd, int mode, long offset, long length)
    {
        FallocateCalls++;
        return Next(FallocateAnswers, out int r) ? r : base.Fallocate(fd, mode, offset, length);
    }
}
