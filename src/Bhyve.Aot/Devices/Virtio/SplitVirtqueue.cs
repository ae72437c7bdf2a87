using System.Runtime.CompilerServices;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Virtio;

/// <summary>What popping the avail ring found.</summary>
public enum PopResult
{
    Empty,
    Available,
    /// <summary>The avail index jumped by more than the queue size, or a head index is out of range: a corrupt ring.</summary>
    Corrupt,
    /// <summary>The pass's budget is spent; entries may be left for the next pass.</summary>
    BudgetSpent,
}

/// <summary>
/// The device side of a split virtqueue (virtio 1.x §2.7). Ring memory is translated once when the queue is
/// enabled; afterwards every access is a plain load or store into guest RAM with the ordering the spec asks
/// for: avail->idx is read with acquire, used->idx written with release, and a full fence separates our
/// used-ring update from reading the guest's suppression fields. Owned by exactly one thread.
///
/// A device pass is: TryPop(ref budget) until Empty or BudgetSpent; AddUsed per finished chain (any order);
/// PublishUsed once (one used->idx store for the whole batch); NeedsNotification once (at most one interrupt);
/// before sleeping, EnableNotification (false: entries arrived meanwhile, run another pass).
/// </summary>
public sealed class SplitVirtqueue
{
    public const ushort DescNext = 1, DescWrite = 2, DescIndirect = 4;
    public const ushort AvailNoInterrupt = 1;
    public const int DescriptorSize = 16;
    public const ushort MaxSize = 32768;

    // SAFETY: set only by TryCreate from GuestMemory.TryTranslate of the whole table and rings for Size entries.
    private readonly unsafe byte* _desc, _avail, _used;
    private ushort _lastAvail, _nextUsed, _publishedUsed, _lastSignalled;
    private bool _publishedSinceSignal;

    // SAFETY: callers (TryCreate only) pass pointers translated for the ring sizes of `size` entries.
    private unsafe SplitVirtqueue(ushort size, byte* desc, byte* avail, byte* used, bool eventIdx)
    {
        Size = size;
        _desc = desc;
        _avail = avail;
        _used = used;
        EventIdx = eventIdx;
    }

    public ushort Size { get; }
    public bool EventIdx { get; }
    public ushort LastAvail => _lastAvail;
    public ushort NextUsed => _nextUsed;

    /// <summary>Validates the ring geometry the driver programmed; null (with the reason) when it is unusable.</summary>
    // SAFETY: the pointers come from TryTranslate with the exact ring lengths for `size` (checked a power of two <= 32768).
    public static unsafe SplitVirtqueue? TryCreate(GuestMemory memory, ushort size, ulong desc, ulong avail, ulong used, bool eventIdx, out string? problem)
    {
        problem = null;
        if (size == 0 || size > MaxSize || (size & (size - 1)) != 0) problem = $"queue size {size} is not a power of two up to {MaxSize}";
        else if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0) problem = "ring addresses are misaligned";
        else if (!memory.TryTranslate(desc, (ulong)size * DescriptorSize, out byte* d)) problem = $"descriptor table at 0x{desc:x} is outside RAM";
        else if (!memory.TryTranslate(avail, 6 + 2UL * size, out byte* a)) problem = $"avail ring at 0x{avail:x} is outside RAM";
        else if (!memory.TryTranslate(used, 6 + 8UL * size, out byte* u)) problem = $"used ring at 0x{used:x} is outside RAM";
        else return new SplitVirtqueue(size, d, a, u, eventIdx);
        return null;
    }

    /// <summary>Takes the next available chain head.</summary>
    // SAFETY: avail idx at +2 and ring slot +4+2*(lastAvail & (Size-1)) lie in the avail ring translated for Size entries.
    public unsafe PopResult TryPop(out ushort head)
    {
        head = 0;
        ushort availIdx = Volatile.Read(ref *(ushort*)(_avail + 2));
        ushort pending = (ushort)(availIdx - _lastAvail);
        if (pending == 0) return PopResult.Empty;
        if (pending > Size) return PopResult.Corrupt;
        head = Volatile.Read(ref *(ushort*)(_avail + 4 + 2 * (_lastAvail & (Size - 1))));
        if (head >= Size) return PopResult.Corrupt;
        _lastAvail++;
        return PopResult.Available;
    }

    /// <summary>
    /// TryPop within a pass's budget: BudgetSpent (nothing consumed) once budget is 0, so a guest that keeps adding
    /// cannot keep the device in one pass. budget is decremented for every head taken.
    /// </summary>
    // SAFETY: reads avail idx at +2, inside the translated avail ring.
    public unsafe PopResult TryPop(ref int budget, out ushort head)
    {
        if (budget <= 0)
        {
            head = 0;
            return Volatile.Read(ref *(ushort*)(_avail + 2)) == _lastAvail ? PopResult.Empty : PopResult.BudgetSpent;
        }
        var result = TryPop(out head);
        if (result == PopResult.Available) budget--;
        return result;
    }

    /// <summary>Hands back the last popped head (used when the backend is full and the request must wait).</summary>
    public void UndoPop() => _lastAvail--;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // SAFETY: callers pass index < Size (DescriptorChain checks every next index), inside the translated table.
    public unsafe VirtqDescriptor Descriptor(int index) => Unsafe.ReadUnaligned<VirtqDescriptor>(_desc + index * DescriptorSize);

    /// <summary>Writes a completed chain's used element; the driver sees it at the next PublishUsed.</summary>
    // SAFETY: the element at +4+8*(nextUsed & (Size-1)) lies in the used ring translated for Size entries.
    public unsafe void AddUsed(ushort head, uint length)
    {
        byte* element = _used + 4 + 8 * (_nextUsed & (Size - 1));
        *(uint*)element = head;
        *(uint*)(element + 4) = length;
        _nextUsed++;
    }

    /// <summary>Publishes every element added since the last call with one release store of used->idx.</summary>
    // SAFETY: used idx at +2 lies in the translated used ring.
    public unsafe bool PublishUsed()
    {
        if (_nextUsed == _publishedUsed) return false;
        _publishedUsed = _nextUsed;
        Volatile.Write(ref *(ushort*)(_used + 2), _nextUsed);
        _publishedSinceSignal = true;
        return true;
    }

    /// <summary>AddUsed and PublishUsed for one chain (tests and benchmarks; devices batch per pass).</summary>
    public void PushUsed(ushort head, uint length)
    {
        AddUsed(head, length);
        PublishUsed();
    }

    /// <summary>
    /// Whether the guest wants an interrupt for what was published since the last call (EVENT_IDX: used_event was
    /// crossed, with u16 wrap-around; otherwise the NO_INTERRUPT flag). Call it once per pass, after PublishUsed.
    /// </summary>
    // SAFETY: flags at +0 and used_event at +4+2*Size lie in the avail ring translated with 6+2*Size bytes.
    public unsafe bool NeedsNotification()
    {
        if (!_publishedSinceSignal) return false;
        _publishedSinceSignal = false;
        // Our used->idx store must be visible before we read the guest's used_event / flags (a lost wake-up otherwise).
        Interlocked.MemoryBarrier();
        ushort now = _publishedUsed, before = _lastSignalled;
        _lastSignalled = now;
        if (!EventIdx) return (Volatile.Read(ref *(ushort*)_avail) & AvailNoInterrupt) == 0;
        ushort usedEvent = Volatile.Read(ref *(ushort*)(_avail + 4 + 2 * Size));
        return (ushort)(now - usedEvent - 1) < (ushort)(now - before);
    }

    /// <summary>
    /// Before sleeping: with EVENT_IDX, ask for a kick at the next new entry (avail_event = last_avail), fence,
    /// and report whether entries arrived meanwhile, in which case the caller must not sleep.
    /// </summary>
    // SAFETY: avail_event at +4+8*Size lies in the used ring translated with 6+8*Size bytes; avail idx at +2.
    public unsafe bool EnableNotification()
    {
        if (EventIdx)
        {
            Volatile.Write(ref *(ushort*)(_used + 4 + 8 * Size), _lastAvail);
            Interlocked.MemoryBarrier();
        }
        return Volatile.Read(ref *(ushort*)(_avail + 2)) != _lastAvail;
    }
}

/// <summary>struct virtq_desc.</summary>
public readonly struct VirtqDescriptor
{
    public readonly ulong Address;
    public readonly uint Length;
    public readonly ushort Flags;
    public readonly ushort Next;
}
