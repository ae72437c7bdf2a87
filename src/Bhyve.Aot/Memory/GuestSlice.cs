namespace Bhyve.Aot.Memory;

/// <summary>
/// A bounds-checked view of guest RAM: a host address and a 64-bit length that GuestMemory checked to lie in one RAM
/// region. Every access takes an offset and a length within the slice (checked without overflow) and copies through
/// spans, so code that holds a GuestSlice needs no pointers and cannot reach outside what the guest described.
/// Valid while the GuestMemory it came from is mapped (for the VM's lifetime).
/// </summary>
public readonly struct GuestSlice
{
    private readonly nint _host;

    private GuestSlice(nint host, ulong length)
    {
        _host = host;
        Length = length;
    }

    public ulong Length { get; }
    public bool IsEmpty => Length == 0;

    /// <summary>For GuestMemory and the chain walker only: host and length were translated from guest RAM.</summary>
    internal static GuestSlice FromTranslated(nint host, ulong length) => new(host, length);

    /// <summary>The sub-slice [offset, offset + length), or false when it does not lie inside this one.</summary>
    public bool TrySlice(ulong offset, ulong length, out GuestSlice slice)
    {
        if (offset > Length || length > Length - offset)
        {
            slice = default;
            return false;
        }
        slice = new GuestSlice(_host + (nint)offset, length);
        return true;
    }

    /// <summary>Copies min(destination.Length, Length - offset) bytes from the slice; returns how many (0 past the end).</summary>
    // SAFETY: the span covers [offset, offset + count) with offset <= Length and count <= Length - offset, inside the slice.
    public unsafe int CopyTo(ulong offset, Span<byte> destination)
    {
        if (offset >= Length) return 0;
        int count = (int)Math.Min((ulong)destination.Length, Length - offset);
        new ReadOnlySpan<byte>((byte*)(_host + (nint)offset), count).CopyTo(destination);
        return count;
    }

    /// <summary>Copies min(source.Length, Length - offset) bytes into the slice; returns how many (0 past the end).</summary>
    // SAFETY: as CopyTo, the span covers [offset, offset + count) inside the slice.
    public unsafe int CopyFrom(ulong offset, ReadOnlySpan<byte> source)
    {
        if (offset >= Length) return 0;
        int count = (int)Math.Min((ulong)source.Length, Length - offset);
        source[..count].CopyTo(new Span<byte>((byte*)(_host + (nint)offset), count));
        return count;
    }

    /// <summary>Writes one byte at offset (a virtio status byte); false when offset is outside the slice.</summary>
    // SAFETY: offset < Length, so the byte lies inside the slice.
    public unsafe bool TryWriteByte(ulong offset, byte value)
    {
        if (offset >= Length) return false;
        *(byte*)(_host + (nint)offset) = value;
        return true;
    }

    /// <summary>The host address, for handing the range to the kernel (iovecs); the length travels with it.</summary>
    public nint HostAddress => _host;
}
