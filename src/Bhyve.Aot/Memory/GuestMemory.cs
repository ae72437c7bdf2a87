using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Memory;

/// <summary>A guest address or range that is not backed by RAM.</summary>
public sealed class GuestMemoryException(ulong address, ulong length)
    : Exception($"guest range 0x{address:x}+0x{length:x} is not in guest RAM")
{
    public ulong Address { get; } = address;
    public ulong Length { get; } = length;
}

/// <summary>
/// Guest RAM: host memory regions at guest-physical addresses. Every access is bounds-checked without
/// overflow (a guest-supplied address plus length can never wrap past a region), and never allocates.
/// </summary>
public sealed class GuestMemory : IDisposable
{
    private readonly Region[] _regions;
    private readonly bool _owned;

    private readonly struct Region
    {
        public readonly ulong Guest;
        public readonly ulong Size;
        // SAFETY: the mapping of Size bytes for this region, alive until Dispose.
        public readonly unsafe byte* Host;

        // SAFETY: built only by Allocate (the mmap of exactly size bytes) and Wrap (the caller's promise).
        public unsafe Region(ulong guest, ulong size, byte* host)
        {
            Guest = guest;
            Size = size;
            Host = host;
        }
    }

    private GuestMemory(Region[] regions, bool owned)
    {
        _regions = regions;
        _owned = owned;
    }

    /// <summary>Maps anonymous memory for each RAM range (MAP_NORESERVE: pages are committed when touched).</summary>
    // SAFETY: each region's pointer is the mmap of exactly its size; failures unmap what was mapped.
    public static unsafe GuestMemory Allocate(IReadOnlyList<RamRange> ranges, bool hugePages = false)
    {
        var regions = new Region[ranges.Count];
        for (int i = 0; i < ranges.Count; i++)
        {
            int flags = Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE;
            nint p = Libc.Mmap(0, (nuint)ranges[i].Size, Libc.PROT_READ | Libc.PROT_WRITE, flags, -1, 0);
            if (p == Libc.MAP_FAILED)
            {
                int errno = Libc.LastErrno;
                for (int j = 0; j < i; j++) Libc.Munmap((nint)regions[j].Host, (nuint)regions[j].Size);
                throw new ErrnoException($"mmap {ranges[i].Size >> 20} MiB of guest RAM", errno);
            }
            // Transparent huge pages cut TLB misses on both sides; a hint only, so failure is harmless.
            if (hugePages) Libc.Madvise(p, (nuint)ranges[i].Size, Libc.MADV_HUGEPAGE);
            regions[i] = new Region(ranges[i].Address, ranges[i].Size, (byte*)p);
        }
        return new GuestMemory(regions, owned: true);
    }

    /// <summary>Wraps memory the caller owns (tests, benchmarks). The caller keeps it alive and pinned.</summary>
    // SAFETY: the caller promises host covers size bytes and outlives the GuestMemory (tests, benchmarks).
    public static unsafe GuestMemory Wrap(ulong guestAddress, byte* host, ulong size) =>
        new([new Region(guestAddress, size, host)], owned: false);

    public int RegionCount => _regions.Length;
    public RamRange GetRange(int index) => new(_regions[index].Guest, _regions[index].Size);
    // SAFETY: only converts the region's mapping address to an integer (for KVM's userspace_addr); nothing is dereferenced.
    internal unsafe nint HostAddressOfRegion(int index) => (nint)_regions[index].Host;

    public ulong TotalBytes
    {
        get
        {
            ulong total = 0;
            foreach (var r in _regions) total += r.Size;
            return total;
        }
    }

    /// <summary>The host pointer for [address, address+length) when the whole range sits in one RAM region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // SAFETY: returns a pointer only when [address, address+length) lies in one region, checked without overflow.
    public unsafe bool TryTranslate(ulong address, ulong length, out byte* host)
    {
        foreach (ref readonly var r in _regions.AsSpan())
        {
            // Written so that no sum can overflow: offset < Size, then length <= Size - offset.
            ulong offset = address - r.Guest;
            if (address >= r.Guest && offset < r.Size && length <= r.Size - offset)
            {
                host = r.Host + offset;
                return true;
            }
        }
        host = null;
        return false;
    }

    // SAFETY: discards the pointer TryTranslate returns; nothing is dereferenced.
    public unsafe bool Contains(ulong address, ulong length) => TryTranslate(address, length, out _);

    /// <summary>A bounds-checked view of [address, address+length), or false when the range is not all in one RAM region.</summary>
    // SAFETY: the slice is built from a successful TryTranslate of the same range.
    public unsafe bool TrySlice(ulong address, ulong length, out GuestSlice slice)
    {
        bool ok = TryTranslate(address, length, out byte* host);
        slice = ok ? GuestSlice.FromTranslated((nint)host, length) : default;
        return ok;
    }

    /// <summary>A span over guest RAM, or false when the range is not all RAM or longer than a span can be.</summary>
    // SAFETY: the span covers a range TryTranslate accepted, at most int.MaxValue bytes.
    public unsafe bool TryGetSpan(ulong address, ulong length, out Span<byte> span)
    {
        if (length <= int.MaxValue && TryTranslate(address, length, out byte* host))
        {
            span = new Span<byte>(host, (int)length);
            return true;
        }
        span = default;
        return false;
    }

    /// <summary>As TryGetSpan, but a bad range throws GuestMemoryException (for VMM-side setup, not guest paths).</summary>
    public Span<byte> GetSpan(ulong address, ulong length) =>
        TryGetSpan(address, length, out var span) ? span : throw new GuestMemoryException(address, length);

    // SAFETY: reads sizeof(T) bytes at a pointer TryTranslate accepted for sizeof(T) bytes.
    public unsafe bool TryRead<T>(ulong address, out T value) where T : unmanaged
    {
        if (TryTranslate(address, (ulong)sizeof(T), out byte* host))
        {
            value = Unsafe.ReadUnaligned<T>(host); // SAFETY: host covers sizeof(T) bytes (TryTranslate above).
            return true;
        }
        value = default;
        return false;
    }

    // SAFETY: writes sizeof(T) bytes at a pointer TryTranslate accepted for sizeof(T) bytes.
    public unsafe bool TryWrite<T>(ulong address, T value) where T : unmanaged
    {
        if (!TryTranslate(address, (ulong)sizeof(T), out byte* host)) return false;
        Unsafe.WriteUnaligned(host, value); // SAFETY: host covers sizeof(T) bytes (TryTranslate above).
        return true;
    }

    // SAFETY: sizeof(T) of an unmanaged type; the access itself goes through TryRead.
    public unsafe T Read<T>(ulong address) where T : unmanaged =>
        TryRead(address, out T value) ? value : throw new GuestMemoryException(address, (ulong)sizeof(T));

    // SAFETY: sizeof(T) of an unmanaged type; the access itself goes through TryWrite.
    public unsafe void Write<T>(ulong address, T value) where T : unmanaged
    {
        if (!TryWrite(address, value)) throw new GuestMemoryException(address, (ulong)sizeof(T));
    }

    /// <summary>Registers every region with the VM.</summary>
    // SAFETY: hands KVM each region's own mapping and size.
    public unsafe void MapInto(MemorySlotMapper map)
    {
        foreach (var r in _regions) map(r.Guest, r.Size, (nint)r.Host, false);
    }

    /// <summary>
    /// Registers every region with the VM, the given ranges as read-only slots (each a whole number of pages inside
    /// one region): the guest reads them as RAM, and its writes there exit to user space as MMIO writes.
    /// </summary>
    // SAFETY: every sub-range handed to KVM lies inside its region (checked page-aligned, ordered, within the region).
    public unsafe void MapInto(MemorySlotMapper map, IReadOnlyList<RamRange> readOnly)
    {
        foreach (var r in _regions)
        {
            ulong at = r.Guest, end = r.Guest + r.Size;
            foreach (var ro in readOnly.Where(x => x.Address >= r.Guest && x.End <= end).OrderBy(x => x.Address))
            {
                if ((ro.Address | ro.Size) % 4096 != 0 || ro.Address < at) throw new ArgumentException($"read-only range 0x{ro.Address:x}+0x{ro.Size:x} is not page-aligned or overlaps another");
                if (ro.Address > at) map(at, ro.Address - at, (nint)(r.Host + (at - r.Guest)), false);
                map(ro.Address, ro.Size, (nint)(r.Host + (ro.Address - r.Guest)), true);
                at = ro.End;
            }
            if (at < end) map(at, end - at, (nint)(r.Host + (at - r.Guest)), false);
        }
    }

    // SAFETY: unmaps exactly what Allocate mapped, once (the pointer is cleared).
    public unsafe void Dispose()
    {
        if (!_owned) return;
        for (int i = 0; i < _regions.Length; i++)
        {
            if (_regions[i].Host != null) Libc.Munmap((nint)_regions[i].Host, (nuint)_regions[i].Size);
            _regions[i] = default;
        }
    }
}
