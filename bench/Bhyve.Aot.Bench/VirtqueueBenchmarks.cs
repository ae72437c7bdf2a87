using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Bench;

/// <summary>
/// The device side of every virtio request: pop a head from the avail ring, validate its descriptor chain, push it to
/// the used ring. The "guest" half (publishing the head) is a plain store per operation, as a driver does.
/// </summary>
[MemoryDiagnoser]
public unsafe class VirtqueueBenchmarks
{
    private const ushort QueueSize = 256;
    private const ulong RamSize = 4 << 20;
    private const ulong DescAt = 0x1000, AvailAt = 0x3000, UsedAt = 0x4000, HeaderAt = 0x10000, DataAt = 0x20000, IndirectAt = 0x8000, StatusAt = 0x11000;
    private byte* _ram;
    private GuestMemory _memory = null!;
    private SplitVirtqueue _queue = null!;
    private ushort _availIdx;
    private readonly ChainSegment[] _segments = new ChainSegment[64];

    [GlobalSetup]
    public void Setup()
    {
        _ram = (byte*)NativeMemory.AllocZeroed((nuint)RamSize);
        _memory = GuestMemory.Wrap(0, _ram, RamSize);
        _queue = SplitVirtqueue.TryCreate(_memory, QueueSize, DescAt, AvailAt, UsedAt, eventIdx: true, out string? problem)
            ?? throw new InvalidOperationException(problem);
        // Head 0: a virtio-blk read as Linux builds it: 16-byte header, 4 KiB data (device-writable), status byte.
        Descriptor(DescAt, 0, HeaderAt, 16, SplitVirtqueue.DescNext, 1);
        Descriptor(DescAt, 1, DataAt, 4096, SplitVirtqueue.DescNext | SplitVirtqueue.DescWrite, 2);
        Descriptor(DescAt, 2, StatusAt, 1, SplitVirtqueue.DescWrite, 0);
        // Head 3: an indirect table of 34 entries (header, 32 data segments of 4 KiB, status): a 128 KiB request.
        Descriptor(DescAt, 3, IndirectAt, 34 * 16, SplitVirtqueue.DescIndirect, 0);
        Descriptor(IndirectAt, 0, HeaderAt, 16, SplitVirtqueue.DescNext, 1);
        for (int i = 1; i <= 32; i++) Descriptor(IndirectAt, i, DataAt + (ulong)(i - 1) * 4096, 4096, SplitVirtqueue.DescNext | SplitVirtqueue.DescWrite, (ushort)(i + 1));
        Descriptor(IndirectAt, 33, StatusAt, 1, SplitVirtqueue.DescWrite, 0);
        // A benchmark of a refused chain would measure the wrong path: check both chains are valid first.
        foreach (ushort chain in new ushort[] { 0, 3 })
            if (DescriptorChain.Walk(_queue, _memory, chain, true, _segments, out _, out _) is var e && e != ChainError.None)
                throw new InvalidOperationException($"benchmark chain {chain} is invalid: {e}");
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.Free(_ram);

    private void Descriptor(ulong table, int index, ulong address, uint length, int flags, ushort next)
    {
        byte* d = _ram + table + (ulong)index * 16;
        *(ulong*)d = address;
        *(uint*)(d + 8) = length;
        *(ushort*)(d + 12) = (ushort)flags;
        *(ushort*)(d + 14) = next;
    }

    /// <summary>The guest's half: head into the next avail slot, then avail->idx.</summary>
    private void Publish(ushort head)
    {
        *(ushort*)(_ram + AvailAt + 4 + 2UL * (ulong)(_availIdx & (QueueSize - 1))) = head;
        _availIdx++;
        Volatile.Write(ref *(ushort*)(_ram + AvailAt + 2), _availIdx);
    }

    [Benchmark]
    public int PopPush()
    {
        Publish(0);
        if (_queue.TryPop(out ushort head) != PopResult.Available) return -1;
        _queue.PushUsed(head, 4097);
        return head;
    }

    [Benchmark]
    public int PopValidatePush3Descriptors() => PopValidatePush(0);

    [Benchmark]
    public int PopValidatePushIndirect34() => PopValidatePush(3);

    [Benchmark]
    public ChainError Validate3Descriptors() => DescriptorChain.Walk(_queue, _memory, 0, true, _segments, out _, out _);

    [Benchmark]
    public ChainError ValidateIndirect34() => DescriptorChain.Walk(_queue, _memory, 3, true, _segments, out _, out _);

    private int PopValidatePush(ushort chain)
    {
        Publish(chain);
        if (_queue.TryPop(out ushort head) != PopResult.Available) return -1;
        if (DescriptorChain.Walk(_queue, _memory, head, true, _segments, out int count, out ulong total) != ChainError.None) return -2;
        _queue.PushUsed(head, (uint)total);
        return count;
    }
}
