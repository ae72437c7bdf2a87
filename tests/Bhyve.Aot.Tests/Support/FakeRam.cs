using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// Guest RAM for unit tests: a zeroed native buffer wrapped at a guest address, freed on Dispose. Above 64 MiB it is
/// a sparse anonymous mapping (MAP_NORESERVE), so tests can have several GiB of guest RAM and touch only a few pages.
/// </summary>
internal sealed unsafe class FakeRam : IDisposable
{
    private const ulong SparseAbove = 64 << 20;
    private byte* _host;
    private readonly bool _mapped;

    public FakeRam(ulong size, ulong guestAddress = 0, byte fill = 0)
    {
        Size = size;
        GuestAddress = guestAddress;
        _mapped = size > SparseAbove;
        if (_mapped)
        {
            nint p = Libc.Mmap(0, (nuint)size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
            if (p == Libc.MAP_FAILED) throw new OutOfMemoryException($"mmap {size >> 20} MiB of sparse test RAM: errno {Libc.LastErrno}");
            _host = (byte*)p;
        }
        else _host = (byte*)NativeMemory.AllocZeroed((nuint)size);
        if (fill != 0) HostSpan(0, (int)Math.Min(size, int.MaxValue)).Fill(fill);
        Memory = GuestMemory.Wrap(guestAddress, _host, size);
    }

    public ulong Size { get; }
    public ulong GuestAddress { get; }
    public GuestMemory Memory { get; }
    public byte* Host => _host;

    /// <summary>The host bytes behind a guest offset, read without going through GuestMemory.</summary>
    public Span<byte> HostSpan(ulong offset, int length) => new(_host + offset, length);

    public void Dispose()
    {
        Memory.Dispose();
        if (_mapped) Libc.Munmap((nint)_host, (nuint)Size);
        else NativeMemory.Free(_host);
        _host = null;
    }
}
