using System.Runtime.InteropServices;

namespace Bhyve.Aot.Storage;

/// <summary>
/// Preallocated O_DIRECT-aligned buffers for requests whose guest buffers are misaligned: the only place the
/// engines copy data. Each buffer has its own one-entry iovec in native memory for the kernel to read.
/// </summary>
internal sealed class BounceBufferPool : IDisposable
{
    // SAFETY: each entry is a BufferBytes-byte aligned allocation owned by the pool from construction until Dispose
    private readonly unsafe byte*[] _buffers;
    private readonly int[] _free;
    private int _freeCount;
    // SAFETY: Count IoVecs in native memory, owned by the pool until Dispose
    private unsafe IoVec* _iovecs;

    // SAFETY: allocates count buffers of bytes each and max(count, 1) iovecs, and indexes only below count
    public unsafe BounceBufferPool(int count, int bytes, uint alignment)
    {
        BufferBytes = bytes;
        _buffers = new byte*[count];
        _free = new int[count];
        _iovecs = (IoVec*)NativeMemory.AllocZeroed((nuint)Math.Max(count, 1), (nuint)sizeof(IoVec));
        for (int i = 0; i < count; i++)
        {
            _buffers[i] = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, Math.Max(alignment, 4096u));
            _free[_freeCount++] = count - 1 - i;
        }
    }

    public int BufferBytes { get; }

    public int Count => _buffers.Length;

    /// <summary>A free buffer's index, or -1 when all are in use.</summary>
    public int TryRent() => _freeCount == 0 ? -1 : _free[--_freeCount];

    public void Return(int index) => _free[_freeCount++] = index;

    // SAFETY: index is a rented index (< Count, from TryRent); the array access is bounds-checked too
    public unsafe byte* Buffer(int index) => _buffers[index];

    /// <summary>The buffer's iovec, set to cover length bytes.</summary>
    // SAFETY: index < Count (rented); callers pass length <= BufferBytes, checked before they rent
    public unsafe IoVec* IoVecFor(int index, nuint length)
    {
        _iovecs[index] = new IoVec((nint)_buffers[index], length);
        return _iovecs + index;
    }

    // SAFETY: frees each allocation once and nulls it, so a second Dispose frees nothing
    public unsafe void Dispose()
    {
        for (int i = 0; i < _buffers.Length; i++)
        {
            if (_buffers[i] != null) NativeMemory.AlignedFree(_buffers[i]);
            _buffers[i] = null;
        }
        if (_iovecs != null) NativeMemory.Free(_iovecs);
        _iovecs = null;
    }
}
