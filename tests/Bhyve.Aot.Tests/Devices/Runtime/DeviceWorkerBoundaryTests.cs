using System.Diagnostics;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Devices.Runtime;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Runtime;

/// <summary>
/// The exception boundary of device workers: a host failure inside a worker (here an engine whose Submit throws, as
/// io_uring_enter does on ENOMEM) marks that device broken the way its spec says, is counted and logged, ends the
/// worker, and leaves this process and every other device serving.
/// </summary>
public sealed unsafe class DeviceWorkerBoundaryTests
{
    private static void WaitFor(Func<bool> condition, string what)
    {
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException(what);
            Thread.Sleep(2);
        }
    }

    [Fact]
    public void Virtio_blk_worker_that_fails_marks_NEEDS_RESET_and_another_device_keeps_serving()
    {
        // Submit fails once with a request prepared; the worker's drain submits again, and the request completes.
        var engine = new FakeBlockEngine { ThrowOnSubmit = new IOException("io_uring_enter: Cannot allocate memory"), Throws = 1, AutoComplete = true };
        using var broken = new BlkQueueHarness(BlockEngineKind.Synchronous, engine: engine);
        using var healthy = new BlkQueueHarness(BlockEngineKind.Synchronous);
        long faultsBefore = DeviceFaultLog.Shared.Total;

        var d = broken.Driver;
        ushort head = d.Chain((d.BlkHeader(VirtioBlkType.In, 0), 16, false), (broken.Buffer(512), 512, true), (d.StatusByte(), 1, true));
        d.Publish(head);
        broken.Blk.Start();
        broken.Doorbell.Signal();

        WaitFor(() => { lock (broken.Resets) return broken.Resets.Count == 1; }, "NEEDS_RESET was not raised");
        WaitFor(() => !broken.Blk.IsAlive, "the failed worker kept running");
        Assert.Contains("Cannot allocate memory", broken.Resets[0]);
        Assert.Equal("io_uring_enter: Cannot allocate memory", broken.Blk.Failure);
        Assert.Equal(1, broken.Blk.Faults);
        Assert.True(DeviceFaultLog.Shared.Total > faultsBefore);

        // The other disk is untouched and serves a read.
        Assert.Equal(VirtioBlkType.StatusOk, healthy.Do(VirtioBlkType.In, 0, (healthy.Buffer(512), 512)).Status);
        Assert.Equal(0, engine.InFlight);
        Assert.Equal(0, broken.Driver.UsedIdx); // the drain publishes nothing: the guest resets and resubmits
        broken.Blk.Stop();
        Assert.True(engine.Disposed);
    }

    [Fact]
    public void Nvme_worker_that_fails_sets_CSTS_CFS_and_a_reset_recovers_the_controller()
    {
        int created = 0;
        using var h = new NvmeHarness(engine: () => created++ == 0
            ? new FakeBlockEngine { ThrowOnSubmit = new IOException("io_uring_enter: Cannot allocate memory") }
            : new FakeBlockEngine());
        Assert.Equal(NvmeRegisters.CstsReady, h.Enable());
        var processor = h.Controller.Processor!;
        processor.Start();
        WaitFor(() => (h.Csts & NvmeRegisters.CstsFatal) != 0, "CSTS.CFS was not set");
        WaitFor(() => !processor.IsAlive, "the failed worker kept running");
        Assert.Equal(1, h.Controller.Counters.Faults);

        // The guest resets the controller (CC.EN = 0: CSTS clears), enables it again, and it serves admin commands.
        h.Disable();
        Assert.Equal(0u, h.Csts);
        Assert.Equal(NvmeRegisters.CstsReady, h.Enable());
        Assert.Equal(0, h.Admin(NvmeAdminOpcode.Identify, prp1: NvmeHarness.Data, cdw10: 1).Status);
        Assert.Equal(1, h.Controller.Counters.Faults);
    }
}
