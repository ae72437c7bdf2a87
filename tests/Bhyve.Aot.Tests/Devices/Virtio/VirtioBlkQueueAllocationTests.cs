using System.Diagnostics;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>The request path (pop, frame, submit, reap, complete, interrupt decision) allocates nothing once warm.</summary>
public sealed unsafe class VirtioBlkQueueAllocationTests
{
    [Theory]
    [InlineData(BlockEngineKind.IoUring)]
    [InlineData(BlockEngineKind.Synchronous)]
    public void Steady_state_4KiB_reads_allocate_nothing(BlockEngineKind kind)
    {
        using var h = new BlkQueueHarness(kind);
        var d = h.Driver;
        ulong header = d.BlkHeader(VirtioBlkType.In, 0), data = h.Buffer(4096), status = d.StatusByte();
        // One chain in descriptors 0..2, re-published after each completion (the head is free again by then).
        ushort head = d.Chain((header, 16, false), (data, 4096, true), (status, 1, true));

        RunReads(h, head, header, 200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunReads(h, head, header, 2000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(VirtioBlkType.StatusOk, *d.Host(status));
        Assert.Equal(4097u, d.Used(d.UsedIdx - 1).Length);
    }

    private static void RunReads(BlkQueueHarness h, ushort head, ulong header, int count)
    {
        var d = h.Driver;
        long deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        for (int i = 0; i < count; i++)
        {
            *(ulong*)d.Host(header + 8) = (ulong)(i % 512) * 8; // a different 4 KiB block each time
            d.Publish(head);
            ushort want = (ushort)(d.UsedIdx + 1);
            while (d.UsedIdx != want || h.Blk.EngineInFlight != 0)
            {
                h.Blk.Service();
                if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException("reads did not complete");
            }
        }
    }
}
