using Bhyve.Aot.Devices.Bus;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Bus;

/// <summary>Every guest port or MMIO access goes through IoBus on a vCPU thread: the dispatch path must not allocate.</summary>
public class IoBusAllocationTests
{
    private sealed class Latch : IBusDevice
    {
        public byte Value;
        public void Read(ulong offset, Span<byte> data) => data.Fill(Value);
        public void Write(ulong offset, ReadOnlySpan<byte> data) => Value = data[0];
    }

    [Fact]
    public void Steady_state_dispatch_allocates_nothing()
    {
        var bus = new IoBus("port");
        var latch = new Latch();
        for (ulong i = 0; i < 32; i++) bus.Register(0x1000 + i * 0x10, 8, i == 7 ? latch : new Latch());

        Span<byte> one = stackalloc byte[1];
        Span<byte> four = stackalloc byte[4];
        void Loop(int n, Span<byte> a, Span<byte> b)
        {
            for (int i = 0; i < n; i++)
            {
                a[0] = (byte)i;
                bus.Write(0x1070, a);
                bus.Read(0x1074, b);
                bus.Read(0x9000, b);   // unhandled: fill and count, still no allocation
            }
        }

        Loop(10_000, one, four); // warm-up: let tiered JIT settle
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(100_000, one, four);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((byte)(99_999 & 0xFF), latch.Value);
        Assert.Equal(110_000, bus.UnhandledAccesses);
    }
}
