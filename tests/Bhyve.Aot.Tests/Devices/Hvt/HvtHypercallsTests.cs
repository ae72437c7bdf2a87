using System.Buffers.Binary;
using Bhyve.Aot.Devices.Hvt;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Hvt;

/// <summary>
/// The hvt hypercall ports driven as the vCPU loop drives them (a 4-byte OUT of a struct address): results in
/// guest RAM, every bad pointer or port a fault and never a host access, and no allocation in steady state.
/// </summary>
public sealed unsafe class HvtHypercallsTests : IDisposable
{
    private const ulong RamSize = 1 << 20;
    private const ulong Struct = 0x1000, Buffer = 0x2000;
    private static readonly RamRange ReadOnly = new(0x8_0000, 0x1000);

    private readonly FakeRam _ram = new(RamSize);
    private readonly MemoryStream _console = new(1 << 16);
    private readonly FakeBlock _block = new(64 * 512);
    private readonly List<string> _faults = [];
    private int? _halted;
    private readonly HvtHypercalls _hc;

    public HvtHypercallsTests()
    {
        _hc = new HvtHypercalls(_ram.Memory, [ReadOnly], _console,
            new Dictionary<int, IHvtBlockBackend> { [1] = _block }, new Dictionary<int, IHvtNetBackend>(),
            status => _halted = status, _faults.Add);
    }

    public void Dispose()
    {
        _ram.Dispose();
        _block.Dispose();
    }

    private void Call(HvtHypercall call, ulong gpa) => Out((ulong)(0x500 + (int)call), (uint)gpa);

    private void Out(ulong port, uint value, int size = 4)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        _hc.Write(port, data[..size]);
    }

    private void W64(ulong at, ulong v) => _ram.Memory.Write(at, v);

    [Fact]
    public void Puts_writes_the_guest_bytes_to_the_console()
    {
        "hello, hvt\n"u8.CopyTo(_ram.HostSpan(Buffer, 11));
        W64(Struct, Buffer);
        W64(Struct + 8, 11);
        Call(HvtHypercall.Puts, Struct);
        Assert.Empty(_faults);
        Assert.Equal("hello, hvt\n"u8.ToArray(), _console.ToArray());
    }

    [Theory]
    [InlineData(RamSize, 1UL)]              // starts past the end
    [InlineData(RamSize - 4, 8UL)]          // runs past the end
    [InlineData(0x1000UL, ulong.MaxValue)]  // length wraps the address space
    [InlineData(ulong.MaxValue - 2, 16UL)]  // address + length overflows
    public void Puts_with_a_buffer_outside_RAM_faults_and_writes_nothing(ulong data, ulong length)
    {
        W64(Struct, data);
        W64(Struct + 8, length);
        Call(HvtHypercall.Puts, Struct);
        Assert.Contains("invalid guest access in hypercall Puts", Assert.Single(_faults));
        Assert.Equal(0, _console.Length);
    }

    [Fact]
    public void A_struct_outside_RAM_faults()
    {
        Call(HvtHypercall.Walltime, RamSize - 4);
        Assert.Contains($"gpa=0x{RamSize - 4:x}, sz=8", Assert.Single(_faults));
    }

    [Fact]
    public void Results_are_never_written_into_read_only_pages()
    {
        Call(HvtHypercall.Walltime, ReadOnly.Address + 8);
        Assert.Contains("read-only memory", Assert.Single(_faults));
        Assert.Equal(0UL, _ram.Memory.Read<ulong>(ReadOnly.Address + 8));
        // ... but a buffer the tender only reads may live there (a string constant for puts).
        _faults.Clear();
        "ro"u8.CopyTo(_ram.HostSpan(ReadOnly.Address, 2));
        W64(Struct, ReadOnly.Address);
        W64(Struct + 8, 2);
        Call(HvtHypercall.Puts, Struct);
        Assert.Empty(_faults);
        Assert.Equal("ro"u8.ToArray(), _console.ToArray());
    }

    [Fact]
    public void Walltime_is_the_host_realtime_clock_in_nanoseconds()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Call(HvtHypercall.Walltime, Struct);
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ulong ns = _ram.Memory.Read<ulong>(Struct);
        Assert.InRange((long)(ns / 1_000_000), before - 1, after + 1);
    }

    [Fact]
    public void Poll_without_network_devices_waits_the_timeout_and_reports_nothing_ready()
    {
        W64(Struct, 20_000_000); // 20 ms
        W64(Struct + 8, ulong.MaxValue);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Call(HvtHypercall.Poll, Struct);
        Assert.InRange(clock.ElapsedMilliseconds, 15, 5000);
        Assert.Equal(0UL, _ram.Memory.Read<ulong>(Struct + 8));
        Assert.Equal(0, _ram.Memory.Read<int>(Struct + 16));
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(1UL, 1)]
    [InlineData(1_000_000UL, 1)]
    [InlineData(1_000_001UL, 2)]
    [InlineData(ulong.MaxValue, int.MaxValue)]   // "forever" stays forever, not a wrapped short wait
    public void Poll_timeouts_round_up_to_milliseconds_and_saturate(ulong ns, int ms) =>
        Assert.Equal(ms, HvtHypercalls.TimeoutMilliseconds(ns));

    private void BlockCall(bool write, ulong handle, ulong offset, ulong data, ulong length)
    {
        W64(Struct, handle);
        W64(Struct + 8, offset);
        W64(Struct + 16, data);
        W64(Struct + 24, length);
        _ram.Memory.Write(Struct + 32, -1);
        Call(write ? HvtHypercall.BlockWrite : HvtHypercall.BlockRead, Struct);
    }

    private int Ret => _ram.Memory.Read<int>(Struct + 32);

    [Fact]
    public void Block_write_then_read_moves_the_bytes()
    {
        var pattern = ElfBuilder.Pattern(1024, 3);
        pattern.CopyTo(_ram.HostSpan(Buffer, 1024));
        BlockCall(write: true, 1, 512, Buffer, 1024);
        Assert.Equal(Solo5Result.Ok, Ret);
        Assert.Equal(pattern, _block.Data.AsSpan(512, 1024).ToArray());
        BlockCall(write: false, 1, 512, Buffer + 4096, 1024);
        Assert.Equal(Solo5Result.Ok, Ret);
        Assert.Equal(pattern, _ram.HostSpan(Buffer + 4096, 1024).ToArray());
        Assert.Empty(_faults);
    }

    [Theory]
    [InlineData(0UL, 0UL, 512UL)]             // handle 0 is the reserved entry
    [InlineData(2UL, 0UL, 512UL)]             // no such device
    [InlineData(1UL << 40, 0UL, 512UL)]       // absurd handle
    [InlineData(1UL, 64 * 512UL, 512UL)]      // starts at capacity
    [InlineData(1UL, 63 * 512UL, 1024UL)]     // crosses capacity
    [InlineData(1UL, 512UL, ulong.MaxValue)]  // length overflows
    public void Bad_block_requests_get_EINVAL_and_touch_nothing(ulong handle, ulong offset, ulong length)
    {
        BlockCall(write: true, handle, offset, Buffer, length);
        Assert.Equal(Solo5Result.Invalid, Ret);
        Assert.Equal(0, _block.Calls);
        Assert.Empty(_faults);
    }

    [Fact]
    public void Block_read_into_a_buffer_outside_RAM_faults_before_any_I_O()
    {
        BlockCall(write: false, 1, 0, RamSize - 256, 512);
        Assert.Contains("invalid guest access in hypercall BlockRead", Assert.Single(_faults));
        Assert.Equal(0, _block.Calls);
    }

    [Fact]
    public void Halt_gives_the_status_modulo_256_and_checks_the_cookie()
    {
        W64(Struct, 0);
        _ram.Memory.Write(Struct + 8, 42);
        Call(HvtHypercall.Halt, Struct);
        Assert.Equal(42, _halted);

        _ram.Memory.Write(Struct + 8, 0x1FF);
        Call(HvtHypercall.Halt, Struct);
        Assert.Equal(255, _halted);

        _halted = null;
        W64(Struct, RamSize - 100); // a cookie needs 512 readable bytes
        Call(HvtHypercall.Halt, Struct);
        Assert.Null(_halted);
        Assert.Contains("hypercall Halt", Assert.Single(_faults));
    }

    [Theory]
    [InlineData(0x500UL, 4, "invalid guest hypercall: num=0")]
    [InlineData(0x509UL, 4, "invalid guest port access: port=0x509")]
    [InlineData(0x80UL, 1, "invalid guest port access: port=0x80")]
    [InlineData(0x502UL, 2, "port=0x502, 2-byte OUT")]
    [InlineData(0x506UL, 4, "invalid guest hypercall: num=6")] // net write without a net device
    public void Unknown_ports_and_hypercalls_fault(ulong port, int size, string message)
    {
        Out(port, (uint)Struct, size);
        Assert.Contains(message, Assert.Single(_faults));
    }

    [Fact]
    public void Port_reads_fault()
    {
        Span<byte> data = stackalloc byte[4];
        _hc.Read(0x502, data);
        Assert.Contains("IN from port 0x502", Assert.Single(_faults));
    }

    [Fact]
    public void Steady_state_hypercalls_allocate_nothing()
    {
        var hc = new HvtHypercalls(_ram.Memory, [ReadOnly], Stream.Null,
            new Dictionary<int, IHvtBlockBackend> { [1] = _block }, new Dictionary<int, IHvtNetBackend>(), _ => { }, _faults.Add);
        W64(Buffer + 8192, Buffer);
        W64(Buffer + 8200, 64);
        void Round()
        {
            Span<byte> data = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)(Buffer + 8192));
            hc.Write(0x502, data);
            BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)Struct);
            hc.Write(0x501, data);
            W64(Struct, 1); W64(Struct + 8, 512); W64(Struct + 16, Buffer); W64(Struct + 24, 512);
            hc.Write(0x505, data);
            W64(Struct, 1); W64(Struct + 8, 512); W64(Struct + 16, Buffer); W64(Struct + 24, 512);
            hc.Write(0x504, data);
        }
        for (int i = 0; i < 100; i++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Empty(_faults);
    }

    /// <summary>A block device in managed memory, counting the transfers that reach it.</summary>
    private sealed class FakeBlock(int size) : IHvtBlockBackend
    {
        public byte[] Data { get; } = new byte[size];
        public int Calls;
        public ulong Capacity => (ulong)Data.Length;
        public ushort BlockSize => 512;

        public int Read(ulong offset, byte* buffer, ulong length)
        {
            Calls++;
            Data.AsSpan((int)offset, (int)length).CopyTo(new Span<byte>(buffer, (int)length));
            return Solo5Result.Ok;
        }

        public int Write(ulong offset, byte* buffer, ulong length)
        {
            Calls++;
            new Span<byte>(buffer, (int)length).CopyTo(Data.AsSpan((int)offset, (int)length));
            return Solo5Result.Ok;
        }

        public void Dispose() { }
    }
}
