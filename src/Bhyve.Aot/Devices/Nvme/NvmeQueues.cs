namespace Bhyve.Aot.Devices.Nvme;

/// <summary>Where a command of an SQ stands.</summary>
internal enum SlotState : byte { Free, Busy, Done, Parked }

/// <summary>
/// One fetched command: its id, the backend operations still running for it (a DSM command issues one per range),
/// and the status and result to post. A slot per SQ entry bounds the commands in flight by the SQ size.
/// </summary>
internal struct CommandSlot
{
    public ushort CommandId;
    public ushort Status;
    public uint Result;
    public int Pending;
    public ulong Expected;
    public NvmeBackendOp Op;
    public SlotState State;
    public bool Tracked; // counted in the SMART data-unit statistics when it succeeds
    public ulong Blocks;
}

/// <summary>The queue-size limit of the model itself, whatever a front end allows.</summary>
internal static class NvmeQueueLimits
{
    /// <summary>Size, head and tail are 16-bit: a 65536-entry queue would be size 0 (and a division by zero).
    /// NVMe allows MQES + 1 = 65536; we offer at most 65535.</summary>
    public const int MaxEntries = ushort.MaxValue;

    public static ushort CheckedSize(int size) =>
        size is >= 2 and <= MaxEntries ? (ushort)size : throw new ArgumentOutOfRangeException(nameof(size), size, $"an NVMe queue has 2..{MaxEntries} entries");
}

/// <summary>A submission queue: a contiguous ring of 64-byte entries in guest RAM, its head and its command slots.</summary>
internal sealed class SubmissionQueue
{
    // SAFETY: entries is the host address of size * 64 bytes the caller translated (TryTranslate of the whole ring)
    public unsafe SubmissionQueue(ushort id, int size, byte* entries, ushort cqId)
    {
        Id = id;
        Size = NvmeQueueLimits.CheckedSize(size);
        Entries = entries;
        CqId = cqId;
        Slots = new CommandSlot[size];
        Free = new int[size];
        for (int i = size - 1; i >= 0; i--) Free[FreeCount++] = i;
    }

    public ushort Id { get; }
    public ushort Size { get; }
    // SAFETY: Size entries of 64 bytes, translated as one range at creation; guest RAM stays mapped while the controller runs
    public unsafe byte* Entries { get; }
    public ushort CqId { get; }
    public ushort Head;
    public ushort Tail;
    public readonly CommandSlot[] Slots;
    public readonly int[] Free;
    public int FreeCount;
    /// <summary>A Delete I/O SQ is waiting for this queue's commands to finish: fetch nothing more.</summary>
    public bool Deleting;
    public int DeleteSlot;

    public int Outstanding => Size - FreeCount;
    public bool HasWork => Head != Tail && FreeCount > 0 && !Deleting;

    public int Allocate() => Free[--FreeCount];
    public void Release(int slot)
    {
        Slots[slot].State = SlotState.Free;
        Free[FreeCount++] = slot;
    }
}

/// <summary>A completion queue: a contiguous ring of 16-byte entries, our tail and phase, the head the guest reported.</summary>
internal sealed class CompletionQueue
{
    // SAFETY: entries is the host address of Size * 16 bytes of guest RAM that the caller translated (TryTranslate of the whole ring) before constructing the queue.
    public unsafe CompletionQueue(ushort id, int size, byte* entries, ushort vector, bool interruptsEnabled)
    {
        (Id, Size, Vector, InterruptsEnabled) = (id, NvmeQueueLimits.CheckedSize(size), vector, interruptsEnabled);
        Entries = entries;
    }

    public ushort Id { get; }
    public ushort Size { get; }
    // SAFETY: Size entries of 16 bytes, translated as one range at construction; guest RAM stays mapped while the controller runs.
    public unsafe byte* Entries { get; }
    public ushort Vector { get; }
    public bool InterruptsEnabled { get; }
    public ushort Tail;
    public ushort Head;
    public bool Phase = true; // the guest zeroes the ring; our first lap writes phase 1
    public bool InterruptDue;
    /// <summary>Completions waiting for room (the CQ was full when they finished).</summary>
    public int Deferred;
    /// <summary>SQs that post here; a referenced CQ cannot be deleted.</summary>
    public int SqReferences;

    public bool Full => (ushort)((Tail + 1) % Size) == Head;

    /// <summary>Writes one entry at the tail (DW3 last, released), advances the tail and flips the phase on wrap.</summary>
    // SAFETY: Tail < Size always (it wraps at Size), so the entry lies inside the translated ring
    public unsafe void Post(uint result, ushort sqHead, ushort sqId, ushort commandId, ushort status)
    {
        NvmeCompletion.Post(Entries + (nint)Tail * NvmeCompletion.Size, result, sqHead, sqId, commandId, Phase, status);
        if (++Tail == Size)
        {
            Tail = 0;
            Phase = !Phase;
        }
        InterruptDue = true;
    }
}
