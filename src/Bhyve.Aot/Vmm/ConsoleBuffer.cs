using Bhyve.Aot.Devices.Legacy;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// The bound between the guest's UART and the terminal: a fixed ring of bytes. The vCPU side (Write) never
/// waits and never allocates; when the ring is full the byte is dropped and counted. The console thread
/// takes bytes out in chunks (Read) and waits on DataReady while the ring is empty.
/// </summary>
public sealed class ConsoleBuffer : ISerialSink
{
    public const int DefaultCapacity = 64 * 1024;

    private readonly byte[] _ring;
    private readonly Lock _lock = new();
    private int _head, _count;
    private long _written, _dropped;

    public ConsoleBuffer(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new byte[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>Set while the ring holds bytes; the console thread waits on it.</summary>
    public ManualResetEventSlim DataReady { get; } = new(false);

    /// <summary>Bytes accepted into the ring since creation.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <summary>Bytes refused because the ring was full (or dropped later by the console, see <see cref="CountDropped"/>).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Bytes in the ring now.</summary>
    public int Count { get { lock (_lock) return _count; } }

    public void Write(byte value)
    {
        lock (_lock)
        {
            if (_count == _ring.Length)
            {
                _dropped++;
                return;
            }
            int tail = _head + _count;
            if (tail >= _ring.Length) tail -= _ring.Length;
            _ring[tail] = value;
            _written++;
            // Only the empty -> non-empty edge wakes the reader: one signal per burst, not one per byte.
            if (_count++ == 0) DataReady.Set();
        }
    }

    /// <summary>Moves up to destination.Length bytes out of the ring; returns how many. Clears DataReady when it empties the ring.</summary>
    public int Read(Span<byte> destination)
    {
        lock (_lock)
        {
            int n = Math.Min(destination.Length, _count);
            int first = Math.Min(n, _ring.Length - _head);
            _ring.AsSpan(_head, first).CopyTo(destination);
            _ring.AsSpan(0, n - first).CopyTo(destination[first..]);
            _head += n;
            if (_head >= _ring.Length) _head -= _ring.Length;
            _count -= n;
            if (_count == 0) DataReady.Reset();
            return n;
        }
    }

    /// <summary>Counts bytes the console took out but could not deliver (the terminal failed or never drained).</summary>
    public void CountDropped(long bytes)
    {
        lock (_lock) _dropped += bytes;
    }
}
