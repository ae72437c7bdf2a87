using System.Buffers.Binary;
using Bhyve.Aot.Devices.Virtio;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// The driver side of one split virtqueue, written straight into FakeRam as a guest would: a descriptor table,
/// the avail ring and the used ring at fixed guest addresses, plus a bump allocator for buffers and indirect
/// tables. Nothing here goes through the device code, so a test sees exactly the bytes the device wrote.
/// </summary>
internal sealed unsafe class FakeVirtqDriver
{
    public const ulong RamBase = 0x10_0000;
    public const ulong RamSize = 16 << 20;
    public const ulong DescAt = RamBase, AvailAt = RamBase + 0x8_0000, UsedAt = RamBase + 0x10_0000;
    private const ulong HeapStart = RamBase + 0x20_0000;

    private readonly FakeRam _ram;
    private ulong _heap = HeapStart;
    private ushort _nextDesc;

    public FakeVirtqDriver(FakeRam ram, ushort size)
    {
        _ram = ram;
        Size = size;
    }

    /// <summary>RAM sized and placed for the driver's fixed layout.</summary>
    public static FakeRam NewRam(ulong size = RamSize) => new(Math.Max(size, RamSize), RamBase);

    public ushort Size { get; }
    public FakeRam Ram => _ram;

    public SplitVirtqueue CreateQueue(bool eventIdx)
    {
        var q = SplitVirtqueue.TryCreate(_ram.Memory, Size, DescAt, AvailAt, UsedAt, eventIdx, out string? problem);
        return q ?? throw new InvalidOperationException(problem);
    }

    public byte* Host(ulong guest) => _ram.Host + (guest - RamBase);
    public Span<byte> Bytes(ulong guest, int length) => new(Host(guest), length);

    /// <summary>Guest memory for a buffer or table, 16-byte aligned by default; never reused.</summary>
    public ulong Alloc(int length, int align = 16)
    {
        ulong at = (_heap + (ulong)align - 1) & ~(ulong)(align - 1);
        _heap = at + (ulong)length;
        if (_heap > RamBase + _ram.Size) throw new InvalidOperationException("fake RAM heap exhausted");
        return at;
    }

    public void ResetHeap() => _heap = HeapStart;

    public static void WriteDescriptor(byte* table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        byte* d = table + index * 16;
        *(ulong*)d = address;
        *(uint*)(d + 8) = length;
        *(ushort*)(d + 12) = flags;
        *(ushort*)(d + 14) = next;
    }

    /// <summary>Entry `index` of the queue's descriptor table.</summary>
    public void SetDesc(int index, ulong address, uint length, ushort flags, ushort next = 0) =>
        WriteDescriptor(Host(DescAt), index, address, length, flags, next);

    /// <summary>Entry `index` of an indirect table at guest address `table`.</summary>
    public void SetIndirect(ulong table, int index, ulong address, uint length, ushort flags, ushort next = 0) =>
        WriteDescriptor(Host(table), index, address, length, flags, next);

    public ushort AvailFlags { get => *(ushort*)Host(AvailAt); set => *(ushort*)Host(AvailAt) = value; }
    public ushort AvailIdx { get => *(ushort*)Host(AvailAt + 2); set => *(ushort*)Host(AvailAt + 2) = value; }
    public ushort UsedEvent { get => *(ushort*)Host(AvailAt + 4 + 2UL * Size); set => *(ushort*)Host(AvailAt + 4 + 2UL * Size) = value; }
    public ushort UsedIdx => Volatile.Read(ref *(ushort*)Host(UsedAt + 2));
    public ushort AvailEvent { get => *(ushort*)Host(UsedAt + 4 + 8UL * Size); set => *(ushort*)Host(UsedAt + 4 + 8UL * Size) = value; }

    public void SetAvailSlot(int slot, ushort head) => *(ushort*)Host(AvailAt + 4 + 2UL * (ulong)slot) = head;

    /// <summary>Puts `head` in the next avail slot and bumps avail->idx.</summary>
    public void Publish(ushort head)
    {
        ushort idx = AvailIdx;
        SetAvailSlot(idx & (Size - 1), head);
        Volatile.Write(ref *(ushort*)Host(AvailAt + 2), (ushort)(idx + 1));
    }

    public (uint Id, uint Length) Used(int position)
    {
        byte* e = Host(UsedAt + 4 + 8UL * (ulong)(position & (Size - 1)));
        return (*(uint*)e, *(uint*)(e + 4));
    }

    /// <summary>
    /// Writes a direct chain over the next free descriptor slots (round robin) and returns its head without
    /// publishing it. Each segment is (guest address, length, device-writable).
    /// </summary>
    public ushort Chain(params (ulong Address, uint Length, bool Writable)[] segments)
    {
        ushort head = _nextDesc;
        for (int i = 0; i < segments.Length; i++)
        {
            ushort index = (ushort)((head + i) & (Size - 1));
            bool last = i == segments.Length - 1;
            ushort flags = (ushort)((segments[i].Writable ? SplitVirtqueue.DescWrite : 0) | (last ? 0 : SplitVirtqueue.DescNext));
            SetDesc(index, segments[i].Address, segments[i].Length, flags, (ushort)((index + 1) & (Size - 1)));
        }
        _nextDesc = (ushort)((head + segments.Length) & (Size - 1));
        return head;
    }

    /// <summary>A 16-byte virtio-blk header in fresh memory.</summary>
    public ulong BlkHeader(uint type, ulong sector)
    {
        ulong at = Alloc(16);
        var h = Bytes(at, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], sector);
        return at;
    }

    /// <summary>A status byte preset to 0xEE, so a request the device never completed shows.</summary>
    public ulong StatusByte()
    {
        ulong at = Alloc(1, 1);
        *Host(at) = 0xEE;
        return at;
    }
}
