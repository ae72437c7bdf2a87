using System.Diagnostics;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>What bounds one pass of a virtio-blk queue, and what it does when the engine has no room.</summary>
public sealed unsafe class VirtioBlkQueuePassTests
{
    [Fact]
    public void A_pass_ends_after_one_queue_of_requests_while_the_guest_keeps_adding()
    {
        // Unsupported requests complete on the spot and never use engine capacity, so only the budget ends the pass.
        // The adder is a hostile guest: it reuses the (completed) head and keeps avail->idx just within a queue of
        // what the device consumed, without waiting for used->idx (which the device publishes once, at pass end).
        using var h = new BlkQueueHarness(BlockEngineKind.Synchronous, queueSize: 16);
        var d = h.Driver;
        ushort head = d.Chain((d.BlkHeader(99, 0), 16, false), (d.StatusByte(), 1, true));
        bool stop = false;
        var adder = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
                if ((ushort)(d.AvailIdx - h.Queue.LastAvail) < d.Size) d.Publish(head);
        });
        adder.Start();
        try
        {
            while (d.AvailIdx == 0) Thread.Yield();
            var pass = new Thread(() => h.Blk.Service());
            pass.Start();
            bool ended = pass.Join(10_000);
            Volatile.Write(ref stop, true);
            adder.Join();
            pass.Join();
            Assert.True(ended, "the pass did not end while the guest kept adding");
            Assert.True(h.Blk.Counters.Requests <= d.Size, $"{h.Blk.Counters.Requests} requests in one pass of a {d.Size}-entry queue");
            Assert.True(h.Blk.Counters.Requests > 0);
        }
        finally { Volatile.Write(ref stop, true); }
    }

    [Fact]
    public void An_engine_without_room_makes_the_queue_wait_for_a_completion_not_spin()
    {
        // Refuse = the O_DIRECT engine with every bounce buffer in use: it says "full" below its capacity.
        var engine = new FakeBlockEngine { Refuse = true, ResultOf = _ => 512 };
        using var h = new BlkQueueHarness(BlockEngineKind.Synchronous, engine: engine);
        var d = h.Driver;
        ulong s1 = d.StatusByte(), s2 = d.StatusByte();
        d.Publish(d.Chain((d.BlkHeader(VirtioBlkType.In, 0), 16, false), (h.Buffer(512), 512, true), (s1, 1, true)));
        d.Publish(d.Chain((d.BlkHeader(VirtioBlkType.In, 1), 16, false), (h.Buffer(512), 512, true), (s2, 1, true)));

        Assert.False(h.Blk.Service(), "the queue asked to run again although only a completion can make room");
        Assert.Equal(1, engine.Accepted);
        Assert.Equal(1, h.Blk.Counters.BackendFull);

        engine.CompleteAll();
        engine.Refuse = false;
        h.Blk.Service();
        engine.CompleteAll();
        h.RunUntilUsed(2);
        Assert.Equal(VirtioBlkType.StatusOk, *d.Host(s1));
        Assert.Equal(VirtioBlkType.StatusOk, *d.Host(s2));
    }

    [Fact]
    public void A_running_worker_sleeps_while_the_engine_has_no_room()
    {
        var engine = new FakeBlockEngine { Refuse = true };
        using var h = new BlkQueueHarness(BlockEngineKind.Synchronous, engine: engine);
        var d = h.Driver;
        for (int i = 0; i < 2; i++)
            d.Publish(d.Chain((d.BlkHeader(VirtioBlkType.In, (ulong)i), 16, false), (h.Buffer(512), 512, true), (d.StatusByte(), 1, true)));
        h.Blk.Start();
        h.Doorbell.Signal();
        Thread.Sleep(300);
        int passes = engine.Submits;
        engine.Refuse = false;
        engine.CompleteAll(); // the worker wakes on the completion eventfd and takes the second request
        long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (engine.Accepted < 2 && Stopwatch.GetTimestamp() < deadline) Thread.Sleep(1);
        engine.CompleteAll();
        h.Blk.Stop();
        Assert.Equal(2, engine.Accepted);
        Assert.True(passes < 20, $"{passes} passes in 300 ms with nothing to do: the worker spins");
    }

    [Theory]
    [InlineData(0x8000_0000u)]  // 2 GiB: (int)Length was negative
    [InlineData(0xFFFF_F000u)]  // just under 4 GiB
    public void GET_ID_into_a_huge_writable_buffer_writes_20_bytes(uint length)
    {
        using var h = new BlkQueueHarness(BlockEngineKind.Synchronous, ramBytes: 4UL << 30 | 64 << 20);
        ulong buffer = FakeVirtqDriver.RamBase + (32 << 20);
        var (status, used) = h.Do(VirtioBlkType.GetId, 0, (buffer, length));
        Assert.Equal(VirtioBlkType.StatusOk, status);
        Assert.Equal(21u, used);
        Assert.Equal(BlkQueueHarness.Serial, System.Text.Encoding.ASCII.GetString(h.Driver.Bytes(buffer, 20)).TrimEnd('\0'));
        Assert.Equal(0, h.Driver.Bytes(buffer + 20, 4096)[0]);
    }
}
