using System.Runtime.InteropServices;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Tests.Support;

/// <summary>Guest RAM for unit tests: a zeroed native buffer wrapped at a guest address, freed on Dispose.</summary>
internal sealed unsafe class FakeRam : IDisposable
{
    private byte* _host;

    public FakeRam(ulong size, ulong guestAddress = 0, byte fill = 0)
    {
        Size = size;
        GuestAddress = guestAddress;
        _host = (byte*)NativeMemory.AllocZeroed((nuint)size);
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
        NativeMemory.Free(_host);
        _host = null;
    }
}
