using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// Shadow doorbells: the driver's EventIdx rule across 16-bit and queue wrap, the device's choice of EventIdx
/// (silent while awake, a ring guaranteed once asleep), and the processor using the shadow as the source of truth.
/// </summary>
public sealed class ShadowDoorbellTests
{
    [Theory]
    [InlineData(5, 6, 5, true)]          // event at old: the first write after the device slept rings
    [InlineData(5, 9, 5, true)]
    [InlineData(7, 9, 5, true)]          // event inside (old, new)
    [InlineData(9, 9, 5, false)]         // event == new: not passed yet
    [InlineData(4, 9, 5, false)]         // event behind old: already passed
    [InlineData(65535, 2, 65534, true)]  // across the 16-bit wrap
    [InlineData(1, 2, 65534, true)]
    [InlineData(2, 2, 65534, false)]
    [InlineData(65533, 2, 65534, false)]
    [InlineData(1020, 3, 1019, true)]    // queue values wrap at its size: a stale EventIdx is passed once per lap
    [InlineData(500, 3, 1019, false)]
    public void Driver_rule_rings_iff_event_idx_lies_in_old_to_new(int eventIdx, int newValue, int oldValue, bool ring)
    {
        Assert.Equal(ring, ShadowDoorbells.DriverMustRing((ushort)eventIdx, (ushort)newValue, (ushort)oldValue));
    }

    [Fact]
    public void Quiet_cq_event_idx_is_inside_the_queue_and_never_the_head()
    {
        for (ushort size = 2; size < 300; size += 7)
            for (ushort head = 0; head < size; head++)
            {
                ushort e = ShadowDoorbells.QuietCqEventIdx(head, size);
                Assert.True(e < size);
                Assert.NotEqual(head, e);
                // The driver moving its head forward by less than a lap from `head` never passes it.
                for (int step = 1; step < size; step++)
                    Assert.False(ShadowDoorbells.DriverMustRing(e, (ushort)((head + step) % size), head));
            }
    }

    /// <summary>
    /// A model of driver and device across many laps of a small queue: the device publishes EventIdx = consumed
    /// tail only when it goes to sleep, then re-checks; the driver rings by the Linux rule. Every submission must be
    /// seen (no lost wake-up) and rings happen only after the device slept.
    /// </summary>
    [Fact]
    public void Event_idx_protocol_never_loses_a_wakeup_across_wraps()
    {
        const int Size = 16;
        var rng = new Random(11);
        ushort shadowTail = 0, eventIdx = 0, consumed = 0;
        bool asleep = false;
        int rings = 0, sleeps = 0, submitted = 0;
        for (int step = 0; step < 200_000; step++)
        {
            if (rng.Next(3) == 0 && (ushort)((shadowTail + 1) % Size) != consumed)
            {
                ushort old = shadowTail;
                shadowTail = (ushort)((shadowTail + 1) % Size);
                submitted++;
                if (ShadowDoorbells.DriverMustRing(eventIdx, shadowTail, old))
                {
                    rings++;
                    Assert.True(asleep, "rang while the device was awake and had not asked for it");
                    asleep = false;
                }
                else if (asleep && shadowTail != consumed)
                {
                    // Asleep with work and no ring would be a lost wake-up, unless EventIdx still allows a later ring.
                    Assert.Fail($"lost wake-up at step {step}: event {eventIdx}, tail {shadowTail}, consumed {consumed}");
                }
            }
            else if (!asleep)
            {
                // Device: consume everything, then publish EventIdx and re-check before sleeping.
                consumed = shadowTail;
                eventIdx = consumed;
                if (shadowTail == consumed) { asleep = true; sleeps++; }
            }
        }
        Assert.True(submitted > 50_000);
        Assert.True(rings <= sleeps);
        Assert.True(rings < submitted);
    }

    [Fact]
    public void Processor_reads_io_tails_from_the_shadow_and_publishes_event_idx_before_sleeping()
    {
        using var h = new NvmeHarness();
        h.Enable();
        Assert.Equal(0, h.ConfigureShadow());
        Assert.Equal((0, 0), h.CreateQueuePair(1));
        // Submit without any MMIO doorbell: only the shadow changes. The processor's next pass finds it.
        h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        h.SetShadowSlot(NvmeHarness.ShadowPage, 2, h.SqTail(1));
        var c = h.Wait(1);
        Assert.Equal(0, c.Status);
        Assert.True(h.Controller.Processor!.ReadyToSleep());
        Assert.Equal(h.SqTail(1), h.ShadowSlot(NvmeHarness.EventIdxPage, 2));
        // Asleep: the driver's next tail write passes EventIdx, so it rings.
        h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        Assert.True(h.ShadowRingSq(1));
        Assert.Equal(0, h.Wait(1).Status);
        // While the device is awake (EventIdx not refreshed), further submissions do not ring.
        h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        Assert.False(h.ShadowRingSq(1));
        Assert.Equal(0, h.Wait(1).Status);
    }

    [Fact]
    public void Shadow_write_after_event_idx_publication_keeps_the_processor_awake()
    {
        using var h = new NvmeHarness();
        h.Enable();
        h.ConfigureShadow();
        h.CreateQueuePair(1);
        h.Service();
        Assert.True(h.Controller.Processor!.ReadyToSleep());
        // A tail written by the driver without a doorbell (it saw the old EventIdx): the re-check must notice it.
        h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        h.SetShadowSlot(NvmeHarness.ShadowPage, 2, h.SqTail(1));
        Assert.False(h.Controller.Processor!.ReadyToSleep());
    }

    [Fact]
    public void Cq_event_idx_asks_for_a_head_doorbell_only_while_completions_wait_for_room()
    {
        using var h = new NvmeHarness();
        h.Enable();
        h.ConfigureShadow();
        h.CreateQueuePair(1, entries: 4);
        h.Service();
        h.Controller.Processor!.ReadyToSleep();
        Assert.Equal(ShadowDoorbells.QuietCqEventIdx(0, 4), h.ShadowSlot(NvmeHarness.EventIdxPage, 3));
        // Three completions fill the 4-entry CQ; a fourth command (the SQ has room again once fetched) must wait.
        for (int i = 0; i < 3; i++) h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        h.SetShadowSlot(NvmeHarness.ShadowPage, 2, h.SqTail(1));
        h.Settle();
        h.Submit(1, NvmeIoOpcode.Flush, 1, ring: false);
        h.SetShadowSlot(NvmeHarness.ShadowPage, 2, h.SqTail(1));
        h.Settle();
        h.Controller.Processor!.ReadyToSleep();
        // One completion waits: EventIdx = the head we know (0), so the driver's next head write rings.
        Assert.Equal(0u, h.ShadowSlot(NvmeHarness.EventIdxPage, 3));
        for (int i = 0; i < 3; i++) Assert.True(h.TryReap(1, out _, ring: false));
        Assert.True(ShadowDoorbells.DriverMustRing((ushort)h.ShadowSlot(NvmeHarness.EventIdxPage, 3), 3, 0));
        h.SetShadowSlot(NvmeHarness.ShadowPage, 3, 3);
        Assert.Equal(0, h.Wait(1).Status);
    }
}
