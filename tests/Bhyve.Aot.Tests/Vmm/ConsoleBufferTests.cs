using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>The bound between the UART and the terminal: fixed size, drops past it, FIFO order, no allocation.</summary>
public class ConsoleBufferTests
{
    [Fact]
    public void Bytes_come_out_in_order_across_the_wrap()
    {
        var buffer = new ConsoleBuffer(8);
        var output = new List<byte>();
        Span<byte> chunk = stackalloc byte[3];
        for (int i = 0; i < 100; i++)
        {
            buffer.Write((byte)i);
            if (i % 2 == 1) { int n = buffer.Read(chunk); foreach (byte b in chunk[..n]) output.Add(b); }
        }
        int rest;
        while ((rest = buffer.Read(chunk)) > 0) foreach (byte b in chunk[..rest]) output.Add(b);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), output);
        Assert.Equal(0, buffer.Dropped);
    }

    [Fact]
    public void Past_the_bound_bytes_are_dropped_and_counted_and_the_buffer_does_not_grow()
    {
        var buffer = new ConsoleBuffer(16);
        for (int i = 0; i < 1000; i++) buffer.Write((byte)'x');
        Assert.Equal(16, buffer.Count);
        Assert.Equal(16, buffer.Written);
        Assert.Equal(984, buffer.Dropped);
        Span<byte> all = stackalloc byte[64];
        Assert.Equal(16, buffer.Read(all));
        Assert.False(buffer.DataReady.IsSet);
    }

    [Fact]
    public void DataReady_follows_empty_and_non_empty()
    {
        var buffer = new ConsoleBuffer(4);
        Assert.False(buffer.DataReady.IsSet);
        buffer.Write(1);
        Assert.True(buffer.DataReady.IsSet);
        Span<byte> one = stackalloc byte[1];
        buffer.Read(one);
        Assert.False(buffer.DataReady.IsSet);
    }

    [Fact]
    public void Writing_and_draining_allocate_nothing_in_the_steady_state()
    {
        var buffer = new ConsoleBuffer(4096);
        var chunk = new byte[1024];
        void Loop(int rounds)
        {
            for (int r = 0; r < rounds; r++)
            {
                for (int i = 0; i < 3000; i++) buffer.Write((byte)i);
                while (buffer.Read(chunk) > 0) { }
            }
        }
        Loop(200); // warm up past tiering and OSR
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(200);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
