using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// A flush error latched on the backend (as a failed fdatasync leaves it) reaches the guest through every path that
/// promises durability: Flush and FUA writes fail, a shutdown sets CSTS.CFS, and a controller reset starts over.
/// </summary>
public sealed class NvmeFlushErrorTests
{
    private const uint FuaBit = 1u << 30;
    private const uint ShutdownNormal = 1 << 14;

    [Theory]
    [InlineData(BlockEngineKind.IoUring)]
    [InlineData(BlockEngineKind.Synchronous)]
    public void A_latched_flush_error_fails_flush_and_fua_until_reset(BlockEngineKind kind)
    {
        using var h = new NvmeHarness(kind);
        h.Enable();
        h.CreateQueuePair(1);
        h.Ram(NvmeHarness.Data, 4096).Fill(0x5A);
        Assert.Equal(NvmeStatus.Success, h.Io(1, NvmeIoOpcode.Flush).Status);

        h.File.LatchFlushError(-BlockAbi.EIO);
        Assert.Equal(NvmeStatus.WriteFault, h.Io(1, NvmeIoOpcode.Flush).Status);
        Assert.Equal(NvmeStatus.WriteFault, h.Io(1, NvmeIoOpcode.Flush).Status); // still, not once
        Assert.Equal(NvmeStatus.WriteFault, h.Io(1, NvmeIoOpcode.Write, prp1: NvmeHarness.Data, cdw12: 7 | FuaBit).Status);
        // A plain write promises nothing about stable storage: it still goes to the page cache.
        Assert.Equal(NvmeStatus.Success, h.Io(1, NvmeIoOpcode.Write, prp1: NvmeHarness.Data, cdw12: 7).Status);

        h.Disable();
        Assert.Equal(0, h.File.FlushError);
        h.Enable();
        h.CreateQueuePair(1);
        Assert.Equal(NvmeStatus.Success, h.Io(1, NvmeIoOpcode.Flush).Status);
        Assert.Equal(NvmeStatus.Success, h.Io(1, NvmeIoOpcode.Write, prp1: NvmeHarness.Data, cdw12: 7 | FuaBit).Status);
        Assert.Equal(1, h.File.FlushFailures); // the exit report still knows
    }

    [Fact]
    public void A_failed_shutdown_flush_sets_controller_fatal_status()
    {
        using var h = new NvmeHarness();
        h.Enable();
        h.CreateQueuePair(1);
        h.File.LatchFlushError(-BlockAbi.EIO);
        h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled | ShutdownNormal);
        h.Settle();
        Assert.True(h.Controller.Processor!.ShutdownDone);
        Assert.Equal(NvmeRegisters.CstsShutdownComplete, h.Csts & NvmeRegisters.CstsShutdownMask);
        Assert.Equal(NvmeRegisters.CstsFatal, h.Csts & NvmeRegisters.CstsFatal);
    }

    [Fact]
    public void A_good_shutdown_flush_leaves_controller_fatal_status_clear()
    {
        using var h = new NvmeHarness();
        h.Enable();
        h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled | ShutdownNormal);
        h.Settle();
        Assert.Equal(NvmeRegisters.CstsShutdownComplete | NvmeRegisters.CstsReady, h.Csts);
    }

    [Fact]
    public void A_failed_flush_while_disabled_sets_controller_fatal_status()
    {
        using var h = new NvmeHarness();
        h.File.LatchFlushError(-BlockAbi.EIO);
        h.Write32(NvmeRegisters.Cc, ShutdownNormal);
        Assert.Equal(1, h.Flushes);
        Assert.Equal(NvmeRegisters.CstsShutdownComplete | NvmeRegisters.CstsFatal, h.Csts);
    }
}
