using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

/// <summary>
/// A signal that lands in a syscall (EINTR) or a transient EAGAIN is not an I/O error: the synchronous engine asks
/// again, and the guest sees the real answer. EAGAIN that never ends is reported after a bound, not spun on forever.
/// </summary>
public unsafe class SyncBlockEngineRetryTests
{
    private const ulong FileSize = 1 << 20;

    [Fact]
    public void Eintr_on_every_call_is_retried()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        var sys = new ScriptedSyscalls
        {
            Pwritev2Answers = [-Libc.EINTR, -Libc.EINTR],
            PreadvAnswers = [-Libc.EINTR],
            FdatasyncAnswers = [-Libc.EINTR],
            FallocateAnswers = [-Libc.EINTR],
        };
        using var engine = new SyncBlockEngine(file, BlockEngineOptions.Default, sys);
        using var ram = new NativeBuffer(8192);
        ram.Span[..4096].Fill(0x3C);

        Assert.Equal(4096, EngineDriver.Write(engine, 4096, [ram.At(0, 4096)]));
        Assert.Equal(3, sys.Pwritev2Calls);
        Assert.Equal(4096, EngineDriver.Read(engine, 4096, [ram.At(4096, 4096)]));
        Assert.True(ram.Span[4096..].IndexOfAnyExcept((byte)0x3C) < 0);

        Assert.True(engine.TryFlush(1));
        Assert.Equal(new BlockCompletion(1, 0), EngineDriver.WaitOne(engine));
        Assert.Equal(0, file.FlushError); // an interrupted flush is not a failed one

        Assert.True(engine.TryDiscard(0, 4096, 2));
        Assert.Equal(new BlockCompletion(2, 0), EngineDriver.WaitOne(engine));
        Assert.Equal(2, sys.FallocateCalls);
    }

    [Fact]
    public void Eagain_is_retried_a_bounded_number_of_times()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        var sys = new ScriptedSyscalls { Pwritev2Answers = [-Libc.EAGAIN, -Libc.EAGAIN, -Libc.EAGAIN] };
        using var engine = new SyncBlockEngine(file, BlockEngineOptions.Default, sys);
        using var ram = new NativeBuffer(4096);
        Assert.Equal(4096, EngineDriver.Write(engine, 0, [ram.At(0, 4096)]));

        sys.PreadvAnswers = Enumerable.Repeat(-Libc.EAGAIN, SyncBlockEngine.EagainRetries + 5).ToList();
        Assert.Equal(-Libc.EAGAIN, EngineDriver.Read(engine, 0, [ram.At(0, 4096)]));
        Assert.Equal(SyncBlockEngine.EagainRetries + 1, sys.PreadvCalls);
    }

    [Fact]
    public void Other_errors_are_reported_at_once()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), FileSize);
        var sys = new ScriptedSyscalls { PreadvAnswers = [-BlockAbi.EIO] };
        using var engine = new SyncBlockEngine(file, BlockEngineOptions.Default, sys);
        using var ram = new NativeBuffer(4096);
        Assert.Equal(-BlockAbi.EIO, EngineDriver.Read(engine, 0, [ram.At(0, 4096)]));
        Assert.Equal(1, sys.PreadvCalls);
    }
}
