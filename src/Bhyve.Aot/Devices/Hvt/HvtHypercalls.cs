using System.Buffers.Binary;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// The whole port space of an hvt guest: a 32-bit OUT to 0x500 + n is hypercall n with the guest-physical address
/// of its argument struct; anything else (another port, a read, another width, an unknown or unconfigured hypercall)
/// ends the run with a fault, as in solo5-hvt. Every guest pointer, the struct's and the buffers it names, is
/// range-checked against guest RAM before use, and results are never written into the guest's read-only pages.
/// Runs on the single vCPU thread; nothing here allocates unless the run ends.
/// </summary>
public sealed class HvtHypercalls : IBusDevice
{
    public const ushort PortBase = 0x500;
    public const int MaxHandles = 64;
    public const int HaltCookieMax = 512;

    private readonly GuestMemory _memory;
    private readonly RamRange[] _readOnly;
    private readonly Stream _console;
    private readonly IHvtBlockBackend?[] _blocks = new IHvtBlockBackend?[MaxHandles];
    private readonly IHvtNetBackend?[] _nets = new IHvtNetBackend?[MaxHandles];
    private readonly int[] _netHandles;
    private readonly bool _anyBlock, _anyNet;
    private readonly Action<int> _halt;
    private readonly Action<string> _fault;

    public HvtHypercalls(GuestMemory memory, IReadOnlyList<RamRange> readOnly, Stream console,
        IReadOnlyDictionary<int, IHvtBlockBackend> blocks, IReadOnlyDictionary<int, IHvtNetBackend> nets,
        Action<int> halt, Action<string> fault)
    {
        _memory = memory;
        _readOnly = readOnly.ToArray();
        _console = console;
        foreach (var (handle, b) in blocks) _blocks[handle] = b;
        foreach (var (handle, n) in nets) _nets[handle] = n;
        _netHandles = nets.Keys.Order().ToArray();
        _anyBlock = blocks.Count > 0;
        _anyNet = nets.Count > 0;
        _halt = halt;
        _fault = fault;
    }

    /// <summary>The cookie of the halt hypercall (a guest trap frame, checked readable for HaltCookieMax bytes), or 0.</summary>
    public ulong HaltCookie { get; private set; }

    /// <summary>Hypercalls served, by number (index 0 unused); read by tests and --stats.</summary>
    public long[] Counts { get; } = new long[(int)HvtHypercall.Halt + 1];

    public void Read(ulong offset, Span<byte> data)
    {
        data.Fill(0xFF);
        _fault($"invalid guest port access: IN from port 0x{offset:x} (an hvt guest only writes hypercall ports)");
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != 4 || offset < PortBase + 1 || offset > PortBase + (ulong)HvtHypercall.Halt)
        {
            if (data.Length == 4 && offset == PortBase) _fault("invalid guest hypercall: num=0");
            else _fault($"invalid guest port access: port=0x{offset:x}, {data.Length}-byte OUT");
            return;
        }
        var call = (HvtHypercall)(int)(offset - PortBase);
        ulong gpa = BinaryPrimitives.ReadUInt32LittleEndian(data);
        switch (call)
        {
            case HvtHypercall.Walltime: Walltime(gpa); break;
            case HvtHypercall.Puts: Puts(gpa); break;
            case HvtHypercall.Poll: Poll(gpa); break;
            case HvtHypercall.BlockWrite or HvtHypercall.BlockRead when _anyBlock: Block(gpa, call == HvtHypercall.BlockWrite); break;
            case HvtHypercall.NetWrite when _anyNet: NetWrite(gpa); break;
            case HvtHypercall.NetRead when _anyNet: NetRead(gpa); break;
            case HvtHypercall.Halt: Halt(gpa); break;
            default:
                // As solo5-hvt: block and net hypercalls exist only when such a device is attached.
                _fault($"invalid guest hypercall: num={(int)call} ({call}: no such device in this unikernel's manifest)");
                return;
        }
        Counts[(int)call]++;
    }

    // SAFETY: Out(gpa, 8) checked the 8 bytes written lie in writable guest RAM
    private unsafe void Walltime(ulong gpa)
    {
        if (!Out(gpa, 8, HvtHypercall.Walltime, out byte* t)) return;
        long nanos = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        *(ulong*)t = (ulong)nanos;
    }

    // SAFETY: In(gpa, 16) checked the struct, and In(data, length) the text before it is read, in chunks inside length
    private unsafe void Puts(ulong gpa)
    {
        if (!In(gpa, 16, HvtHypercall.Puts, out byte* p)) return;
        ulong data = *(ulong*)p, length = *(ulong*)(p + 8);
        if (!In(data, length, HvtHypercall.Puts, out byte* text)) return;
        // The console is the process's stdout, written in the guest's own chunks like solo5-hvt's write(1, ...).
        for (ulong done = 0; done < length;)
        {
            int chunk = (int)Math.Min(length - done, 1 << 20);
            _console.Write(new ReadOnlySpan<byte>(text + done, chunk));
            done += (ulong)chunk;
        }
        _console.Flush();
    }

    // SAFETY: the struct is reached only through Out(gpa, size of the struct) (or In for read-only ones), which checks it lies in guest RAM and, for writes, clear of the read-only pages; fields are read and written at offsets inside that size; the PollFd array on the stack holds one entry per net handle (at most MaxHandles)
    private unsafe void Poll(ulong gpa)
    {
        // struct hvt_hc_poll { u64 timeout_nsecs; u64 ready_set (out); int ret (out); }
        if (!Out(gpa, 24, HvtHypercall.Poll, out byte* p)) return;
        ulong timeout = *(ulong*)p;
        int ms = TimeoutMilliseconds(timeout);
        int n = _netHandles.Length;
        PollFd* fds = stackalloc PollFd[Math.Max(n, 1)];
        for (int i = 0; i < n; i++) fds[i] = new PollFd { Fd = _nets[_netHandles[i]]!.Fd, Events = PollFd.PollIn };
        int rc = Libc.Poll(fds, (nuint)n, ms);
        ulong ready = 0;
        if (rc > 0)
            for (int i = 0; i < n; i++)
                if ((fds[i].Revents & PollFd.PollIn) != 0) ready |= 1UL << _netHandles[i];
        *(ulong*)(p + 8) = ready;
        *(int*)(p + 16) = rc < 0 ? 0 : rc;   // EINTR is a wakeup with nothing ready, as a timeout
    }

    /// <summary>poll(2)'s timeout for a guest's nanoseconds: rounded up, so a short wait never becomes a busy spin; capped, never wrapped.</summary>
    internal static int TimeoutMilliseconds(ulong nanoseconds) =>
        (int)Math.Min(nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 != 0 ? 1UL : 0), int.MaxValue);

    // SAFETY: the struct is reached only through Out(gpa, size of the struct) (or In for read-only ones), which checks it lies in guest RAM and, for writes, clear of the read-only pages; fields are read and written at offsets inside that size; the data buffer is checked with In/Out for its whole length before the backend gets it
    private unsafe void Block(ulong gpa, bool write)
    {
        var call = write ? HvtHypercall.BlockWrite : HvtHypercall.BlockRead;
        // struct hvt_hc_block_{write,read} { u64 handle; u64 offset; u64 data; u64 len; int ret (out); }
        if (!Out(gpa, 40, call, out byte* r)) return;
        ulong handle = *(ulong*)r, offset = *(ulong*)(r + 8), data = *(ulong*)(r + 16), length = *(ulong*)(r + 24);
        int* ret = (int*)(r + 32);
        var block = handle < MaxHandles ? _blocks[handle] : null;
        if (block is null || length > long.MaxValue || offset >= block.Capacity || length > block.Capacity - offset)
        {
            *ret = Solo5Result.Invalid;
            return;
        }
        byte* buffer;
        if (write ? !In(data, length, call, out buffer) : !Out(data, length, call, out buffer)) return;
        *ret = length == 0 ? Solo5Result.Ok : write ? block.Write(offset, buffer, length) : block.Read(offset, buffer, length);
    }

    // SAFETY: the struct is reached only through Out(gpa, size of the struct) (or In for read-only ones), which checks it lies in guest RAM and, for writes, clear of the read-only pages; fields are read and written at offsets inside that size; the frame is checked with In for its whole length
    private unsafe void NetWrite(ulong gpa)
    {
        // struct hvt_hc_net_write { u64 handle; u64 data; u64 len; int ret (out); }
        if (!Out(gpa, 32, HvtHypercall.NetWrite, out byte* w)) return;
        ulong handle = *(ulong*)w, data = *(ulong*)(w + 8), length = *(ulong*)(w + 16);
        var net = handle < MaxHandles ? _nets[handle] : null;
        if (net is null)
        {
            *(int*)(w + 24) = Solo5Result.Invalid;
            return;
        }
        if (!In(data, length, HvtHypercall.NetWrite, out byte* frame)) return;
        *(int*)(w + 24) = net.Write(frame, length);
    }

    // SAFETY: the struct is reached only through Out(gpa, size of the struct) (or In for read-only ones), which checks it lies in guest RAM and, for writes, clear of the read-only pages; fields are read and written at offsets inside that size; the buffer is checked with Out for its whole capacity
    private unsafe void NetRead(ulong gpa)
    {
        // struct hvt_hc_net_read { u64 handle; u64 data; u64 len (in: buffer size, out: frame size); int ret (out); }
        if (!Out(gpa, 32, HvtHypercall.NetRead, out byte* r)) return;
        ulong handle = *(ulong*)r, data = *(ulong*)(r + 8), capacity = *(ulong*)(r + 16);
        var net = handle < MaxHandles ? _nets[handle] : null;
        if (net is null)
        {
            *(int*)(r + 24) = Solo5Result.Invalid;
            return;
        }
        if (!Out(data, capacity, HvtHypercall.NetRead, out byte* buffer)) return;
        int result = net.Read(buffer, capacity, out ulong length);
        *(ulong*)(r + 16) = result == Solo5Result.Ok ? length : 0;
        *(int*)(r + 24) = result;
    }

    // SAFETY: In(gpa, 16) checked the struct before its two fields are read
    private unsafe void Halt(ulong gpa)
    {
        // struct hvt_hc_halt { u64 cookie; int exit_status; }
        if (!In(gpa, 16, HvtHypercall.Halt, out byte* h)) return;
        ulong cookie = *(ulong*)h;
        int status = *(int*)(h + 8);
        // A cookie (a trap frame for dump tools) must point at HVT_HALT_COOKIE_MAX readable bytes.
        if (cookie != 0 && !In(cookie, HaltCookieMax, HvtHypercall.Halt, out _)) return;
        HaltCookie = cookie;
        // The process status is 8 bits: solo5-hvt returns exit_status from main, so the OS keeps its low byte.
        _halt(status & 0xFF);
    }

    /// <summary>A guest range the tender only reads.</summary>
    // SAFETY: host comes from GuestMemory.TryTranslate, which checks [gpa, gpa + length) lies inside one RAM region
    private unsafe bool In(ulong gpa, ulong length, HvtHypercall call, out byte* host)
    {
        if (_memory.TryTranslate(gpa, length, out host) && (length > 0 || gpa < _memory.TotalBytes)) return true;
        _fault($"invalid guest access in hypercall {call}: gpa=0x{gpa:x}, sz={length} (outside the guest's {_memory.TotalBytes >> 20} MiB of RAM)");
        return false;
    }

    /// <summary>A guest range the tender writes: in RAM and clear of the guest's read-only pages.</summary>
    // SAFETY: In's check, plus no overlap with the guest's read-only ranges
    private unsafe bool Out(ulong gpa, ulong length, HvtHypercall call, out byte* host)
    {
        if (!In(gpa, length, call, out host)) return false;
        foreach (var ro in _readOnly)
        {
            if (gpa < ro.End && ro.Address < gpa + length)
            {
                _fault($"invalid guest access in hypercall {call}: gpa=0x{gpa:x}, sz={length} (the guest's read-only memory at 0x{ro.Address:x}-0x{ro.End:x})");
                host = null;
                return false;
            }
        }
        return true;
    }
}
