using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>The device side of the split ring: geometry checks, popping, publishing and notification suppression (B7).</summary>
public sealed unsafe class SplitVirtqueueTests : IDisposable
{
    private const ushort Size = 8;
    private readonly FakeRam _ram = FakeVirtqDriver.NewRam();
    private readonly FakeVirtqDriver _d;

    public SplitVirtqueueTests() => _d = new FakeVirtqDriver(_ram, Size);

    public void Dispose() => _ram.Dispose();

    // ---- TryCreate ----

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(65535)]
    public void TryCreate_refuses_sizes_that_are_not_a_power_of_two(int size)
    {
        Assert.Null(SplitVirtqueue.TryCreate(_ram.Memory, (ushort)size, FakeVirtqDriver.DescAt, FakeVirtqDriver.AvailAt, FakeVirtqDriver.UsedAt, false, out string? problem));
        Assert.Contains("power of two", problem);
    }

    [Fact]
    public void TryCreate_accepts_the_largest_size_32768()
    {
        using var big = new FakeRam(4 << 20, FakeVirtqDriver.RamBase);
        Assert.NotNull(SplitVirtqueue.TryCreate(big.Memory, 32768, FakeVirtqDriver.RamBase, FakeVirtqDriver.RamBase + 0x8_0000, FakeVirtqDriver.RamBase + 0x10_0000, false, out _));
    }

    [Theory]
    [InlineData(8UL, 0UL, 0UL)]   // descriptor table not 16-aligned
    [InlineData(0UL, 1UL, 0UL)]   // avail ring not 2-aligned
    [InlineData(0UL, 0UL, 2UL)]   // used ring not 4-aligned
    public void TryCreate_refuses_misaligned_rings(ulong descDelta, ulong availDelta, ulong usedDelta)
    {
        Assert.Null(SplitVirtqueue.TryCreate(_ram.Memory, Size, FakeVirtqDriver.DescAt + descDelta, FakeVirtqDriver.AvailAt + availDelta, FakeVirtqDriver.UsedAt + usedDelta, false, out string? problem));
        Assert.Contains("misaligned", problem);
    }

    [Theory]
    [InlineData(0, "descriptor table")]
    [InlineData(1, "avail ring")]
    [InlineData(2, "used ring")]
    public void TryCreate_refuses_rings_outside_RAM(int which, string named)
    {
        ulong end = FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize;
        // Each ring placed so that its last bytes (avail: used_event; used: avail_event) fall just past RAM.
        ulong desc = which == 0 ? end - 16UL * Size + 16 : FakeVirtqDriver.DescAt;
        ulong avail = which == 1 ? end - (6 + 2UL * Size) + 2 : FakeVirtqDriver.AvailAt;
        ulong used = which == 2 ? end - (6 + 8UL * Size) - 2 + 4 : FakeVirtqDriver.UsedAt; // 4-aligned, 2 bytes over
        Assert.Null(SplitVirtqueue.TryCreate(_ram.Memory, Size, desc, avail, used, true, out string? problem));
        Assert.Contains(named, problem);
        Assert.Contains("outside RAM", problem);
    }

    [Fact]
    public void TryCreate_accepts_rings_that_end_exactly_at_the_end_of_RAM()
    {
        ulong end = FakeVirtqDriver.RamBase + FakeVirtqDriver.RamSize;
        ulong desc = FakeVirtqDriver.DescAt, avail = FakeVirtqDriver.AvailAt, used = FakeVirtqDriver.UsedAt;
        Assert.NotNull(SplitVirtqueue.TryCreate(_ram.Memory, Size, end - 16UL * Size, avail, used, true, out _));
        Assert.NotNull(SplitVirtqueue.TryCreate(_ram.Memory, Size, desc, end - (6 + 2UL * Size), used, true, out _));
        // 6 + 8N is 2 mod 4, so a 4-aligned used ring ends 2 bytes short of the (aligned) end at best.
        Assert.NotNull(SplitVirtqueue.TryCreate(_ram.Memory, Size, desc, avail, end - (6 + 8UL * Size) - 2, true, out _));
    }

    // ---- TryPop / UndoPop ----

    [Fact]
    public void TryPop_is_empty_until_the_driver_publishes_then_yields_heads_in_order()
    {
        var q = _d.CreateQueue(false);
        Assert.Equal(PopResult.Empty, q.TryPop(out _));
        _d.Publish(5);
        _d.Publish(2);
        Assert.Equal(PopResult.Available, q.TryPop(out ushort h1));
        Assert.Equal(PopResult.Available, q.TryPop(out ushort h2));
        Assert.Equal(PopResult.Empty, q.TryPop(out _));
        Assert.Equal((5, 2), ((int)h1, (int)h2));
        Assert.Equal(2, q.LastAvail);
    }

    [Fact]
    public void TryPop_reports_an_avail_index_jump_beyond_the_queue_size_as_corrupt()
    {
        var q = _d.CreateQueue(false);
        _d.AvailIdx = Size + 1;
        Assert.Equal(PopResult.Corrupt, q.TryPop(out _));
        _d.AvailIdx = Size; // exactly a full ring is legal
        Assert.Equal(PopResult.Available, q.TryPop(out _));
    }

    [Fact]
    public void TryPop_reports_a_head_out_of_range_as_corrupt_and_does_not_consume_it()
    {
        var q = _d.CreateQueue(false);
        _d.Publish(Size);
        Assert.Equal(PopResult.Corrupt, q.TryPop(out _));
        Assert.Equal(0, q.LastAvail);
    }

    [Fact]
    public void TryPop_handles_the_u16_index_wrap()
    {
        var q = _d.CreateQueue(false);
        // Move both sides to 65534 by popping through the indices (free-running u16).
        for (int i = 0; i < 65534; i++)
        {
            _d.Publish((ushort)(i % Size));
            Assert.Equal(PopResult.Available, q.TryPop(out _));
        }
        for (int i = 0; i < 4; i++) _d.Publish((ushort)i);
        Assert.Equal(2, _d.AvailIdx);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(PopResult.Available, q.TryPop(out ushort head));
            Assert.Equal(i, head);
        }
        Assert.Equal(PopResult.Empty, q.TryPop(out _));
    }

    [Fact]
    public void UndoPop_hands_the_head_back()
    {
        var q = _d.CreateQueue(false);
        _d.Publish(3);
        Assert.Equal(PopResult.Available, q.TryPop(out _));
        q.UndoPop();
        Assert.Equal(PopResult.Available, q.TryPop(out ushort again));
        Assert.Equal(3, again);
    }

    // ---- PushUsed ----

    [Fact]
    public void PushUsed_writes_id_and_length_then_the_index()
    {
        var q = _d.CreateQueue(false);
        q.PushUsed(6, 4097);
        q.PushUsed(1, 1);
        Assert.Equal(2, _d.UsedIdx);
        Assert.Equal((6u, 4097u), _d.Used(0));
        Assert.Equal((1u, 1u), _d.Used(1));
        Assert.Equal(2, q.NextUsed);
    }

    [Fact]
    public void PushUsed_wraps_the_ring_slot_but_not_the_index()
    {
        var q = _d.CreateQueue(false);
        for (int i = 0; i < Size + 2; i++) q.PushUsed((ushort)i, (uint)(100 + i));
        Assert.Equal(Size + 2, _d.UsedIdx);
        Assert.Equal(((uint)Size, (uint)(100 + Size)), _d.Used(Size)); // slot 0 overwritten
    }

    // ---- NeedsNotification ----

    [Fact]
    public void Without_EVENT_IDX_the_NO_INTERRUPT_flag_suppresses()
    {
        var q = _d.CreateQueue(false);
        Assert.False(q.NeedsNotification()); // nothing pushed
        q.PushUsed(0, 1);
        Assert.True(q.NeedsNotification());
        Assert.False(q.NeedsNotification()); // nothing new since
        _d.AvailFlags = SplitVirtqueue.AvailNoInterrupt;
        q.PushUsed(1, 1);
        Assert.False(q.NeedsNotification());
    }

    [Fact]
    public void Without_EVENT_IDX_used_event_is_ignored()
    {
        var q = _d.CreateQueue(false);
        _d.UsedEvent = 100;
        q.PushUsed(0, 1);
        Assert.True(q.NeedsNotification());
    }

    [Fact]
    public void With_EVENT_IDX_the_flag_is_ignored_and_used_event_decides()
    {
        var q = _d.CreateQueue(true);
        _d.AvailFlags = SplitVirtqueue.AvailNoInterrupt;
        _d.UsedEvent = 0;              // interrupt when used->idx passes 0 → 1
        q.PushUsed(0, 1);
        Assert.True(q.NeedsNotification());
        _d.UsedEvent = 2;              // wants one at 2 → 3; we are at 1 → 2
        q.PushUsed(0, 1);
        Assert.False(q.NeedsNotification());
        q.PushUsed(0, 1);              // 2 → 3 crosses it
        Assert.True(q.NeedsNotification());
    }

    [Fact]
    public void With_EVENT_IDX_a_batch_that_crosses_used_event_interrupts_once()
    {
        var q = _d.CreateQueue(true);
        _d.UsedEvent = 3;
        for (int i = 0; i < 6; i++) q.PushUsed(0, 1); // 0 → 6 passes 3
        Assert.True(q.NeedsNotification());
        for (int i = 0; i < 2; i++) q.PushUsed(0, 1); // 6 → 8 does not pass 3 again
        Assert.False(q.NeedsNotification());
    }

    [Theory]
    [InlineData(65533, 65534, true)]   // old 65533, new 65535 (two pushes), event 65534
    [InlineData(65533, 65535, false)]  // event at the new index itself: not crossed yet
    [InlineData(65534, 65535, true)]   // old 65534, new 0 (wrapped), event 65535
    [InlineData(65534, 0, false)]      // event at the wrapped new index: not yet crossed
    [InlineData(65535, 65535, true)]   // old 65535, new 1, event 65535
    [InlineData(65535, 0, true)]       // old 65535, new 1, event 0 crosses the wrap
    [InlineData(65535, 1, false)]
    public void With_EVENT_IDX_vring_need_event_holds_across_the_u16_wrap(int old, int usedEvent, bool expected)
    {
        var q = _d.CreateQueue(true);
        // Advance the device to `old` with interrupts asked for at every step, then push twice.
        _d.UsedEvent = 0;
        for (int i = 0; i < old; i++) q.PushUsed(0, 1);
        q.NeedsNotification();
        _d.UsedEvent = (ushort)usedEvent;
        q.PushUsed(0, 1);
        q.PushUsed(0, 1);
        Assert.Equal(expected, q.NeedsNotification());
    }

    // ---- EnableNotification ----

    [Fact]
    public void EnableNotification_without_EVENT_IDX_never_writes_avail_event()
    {
        var q = _d.CreateQueue(false);
        _d.AvailEvent = 0xBEEF; // guest memory past the used ring that is not ours without EVENT_IDX
        _d.Publish(0);
        q.TryPop(out _);
        Assert.False(q.EnableNotification());
        Assert.Equal(0xBEEF, _d.AvailEvent);
    }

    [Fact]
    public void EnableNotification_with_EVENT_IDX_asks_for_a_kick_at_last_avail()
    {
        var q = _d.CreateQueue(true);
        _d.Publish(0);
        _d.Publish(1);
        q.TryPop(out _);
        Assert.True(q.EnableNotification());   // one still pending: do not sleep
        Assert.Equal(1, _d.AvailEvent);
        q.TryPop(out _);
        Assert.False(q.EnableNotification());
        Assert.Equal(2, _d.AvailEvent);
    }

    [Fact]
    public void EnableNotification_reports_entries_published_after_the_last_pop()
    {
        var q = _d.CreateQueue(false);
        Assert.False(q.EnableNotification());
        _d.Publish(4);
        Assert.True(q.EnableNotification());
    }

    // ---- batching: AddUsed, PublishUsed, TryPop(budget) ----

    [Fact]
    public void AddUsed_is_invisible_to_the_driver_until_one_PublishUsed_shows_the_whole_batch()
    {
        var q = _d.CreateQueue(false);
        Assert.False(q.PublishUsed()); // nothing added
        q.AddUsed(3, 10);
        q.AddUsed(1, 11);
        q.AddUsed(2, 12);
        Assert.Equal(0, _d.UsedIdx);
        Assert.False(q.NeedsNotification()); // nothing published yet: no interrupt decision
        Assert.True(q.PublishUsed());
        Assert.Equal(3, _d.UsedIdx);
        Assert.Equal([(3u, 10u), (1u, 11u), (2u, 12u)], [_d.Used(0), _d.Used(1), _d.Used(2)]);
        Assert.True(q.NeedsNotification());
        Assert.False(q.PublishUsed());
        Assert.False(q.NeedsNotification());
    }

    [Theory]
    [InlineData(65534, true)]  // the batch 65533 -> 3 crosses 65534
    [InlineData(0, true)]      // ... and 0, across the wrap
    [InlineData(2, true)]
    [InlineData(3, false)]     // the new index itself: not crossed yet
    [InlineData(65532, false)] // behind the batch
    public void A_batch_published_across_the_u16_wrap_interrupts_once_when_it_crosses_used_event(int usedEvent, bool expected)
    {
        var q = _d.CreateQueue(true);
        _d.UsedEvent = 0;
        for (int i = 0; i < 65533; i++) q.AddUsed(0, 1);
        q.PublishUsed();
        q.NeedsNotification();
        _d.UsedEvent = (ushort)usedEvent;
        for (int i = 0; i < 6; i++) q.AddUsed(0, 1); // 65533 -> 3 (wrapped)
        q.PublishUsed();
        Assert.Equal(3, _d.UsedIdx);
        Assert.Equal(expected, q.NeedsNotification());
        Assert.False(q.NeedsNotification());
    }

    [Fact]
    public void TryPop_with_a_budget_stops_when_it_is_spent_and_leaves_the_rest()
    {
        var q = _d.CreateQueue(false);
        for (ushort h = 0; h < 5; h++) _d.Publish(h);
        int budget = 3;
        for (int i = 0; i < 3; i++) Assert.Equal(PopResult.Available, q.TryPop(ref budget, out _));
        Assert.Equal(0, budget);
        Assert.Equal(PopResult.BudgetSpent, q.TryPop(ref budget, out _));
        Assert.Equal(3, q.LastAvail);
        budget = 8;
        Assert.Equal(PopResult.Available, q.TryPop(ref budget, out ushort head));
        Assert.Equal(3, head);
        Assert.Equal(PopResult.Available, q.TryPop(ref budget, out _));
        Assert.Equal(PopResult.Empty, q.TryPop(ref budget, out _));
        budget = 0;
        Assert.Equal(PopResult.Empty, q.TryPop(ref budget, out _)); // spent, but nothing left either
    }
}
