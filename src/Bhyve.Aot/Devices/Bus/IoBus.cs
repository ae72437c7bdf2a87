namespace Bhyve.Aot.Devices.Bus;

/// <summary>
/// Address-range dispatch for one address space (the x86 port space or guest-physical MMIO).
/// Lookup is a binary search over a sorted, immutable snapshot: vCPU threads never lock or allocate,
/// and registration (rare: setup, BAR moves) publishes a new snapshot.
/// </summary>
public sealed class IoBus(string name)
{
    private readonly record struct Range(ulong Base, ulong Length, IBusDevice Device)
    {
        public ulong Last => Base + (Length - 1);
    }

    private Range[] _ranges = [];
    private readonly Lock _writerLock = new();
    private long _unhandled;

    public string Name { get; } = name;

    /// <summary>Accesses that hit no device (reads returned all-ones, writes were dropped).</summary>
    public long UnhandledAccesses => Interlocked.Read(ref _unhandled);

    public void Register(ulong baseAddress, ulong length, IBusDevice device)
    {
        if (length == 0 || length - 1 > ulong.MaxValue - baseAddress)
            throw new ArgumentOutOfRangeException(nameof(length), $"bad {Name} range 0x{baseAddress:x}+0x{length:x}");
        lock (_writerLock)
        {
            var current = _ranges;
            var added = new Range(baseAddress, length, device);
            foreach (var r in current)
                if (added.Base <= r.Last && r.Base <= added.Last)
                    throw new InvalidOperationException($"{Name} range 0x{baseAddress:x}+0x{length:x} overlaps 0x{r.Base:x}+0x{r.Length:x}");
            var next = new Range[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = added;
            Array.Sort(next, (a, b) => a.Base.CompareTo(b.Base));
            Volatile.Write(ref _ranges, next);
        }
    }

    public void Unregister(IBusDevice device, ulong baseAddress)
    {
        lock (_writerLock)
        {
            var next = Array.FindAll(_ranges, r => !(r.Base == baseAddress && ReferenceEquals(r.Device, device)));
            Volatile.Write(ref _ranges, next);
        }
    }

    /// <summary>Finds the device whose range holds the whole access [address, address+size).</summary>
    public bool TryFind(ulong address, int size, out IBusDevice? device, out ulong offset)
    {
        var ranges = Volatile.Read(ref _ranges);
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            ref readonly var r = ref ranges[mid];
            if (address < r.Base) hi = mid - 1;
            else if (address > r.Last) lo = mid + 1;
            else
            {
                offset = address - r.Base;
                if ((ulong)size - 1 <= r.Last - address)
                {
                    device = r.Device;
                    return true;
                }
                break;
            }
        }
        device = null;
        offset = 0;
        return false;
    }

    /// <summary>Reads from the device at address; an access that hits nothing reads as all ones, like an empty bus.</summary>
    public bool Read(ulong address, Span<byte> data)
    {
        if (TryFind(address, data.Length, out var device, out ulong offset))
        {
            device!.Read(offset, data);
            return true;
        }
        data.Fill(0xFF);
        Interlocked.Increment(ref _unhandled);
        return false;
    }

    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (TryFind(address, data.Length, out var device, out ulong offset))
        {
            device!.Write(offset, data);
            return true;
        }
        Interlocked.Increment(ref _unhandled);
        return false;
    }
}
