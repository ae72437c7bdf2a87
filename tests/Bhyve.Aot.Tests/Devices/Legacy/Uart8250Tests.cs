using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Legacy;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Legacy;

/// <summary>The 16550 as guests drive it: polled transmit, receive FIFO, divisor latch, loopback probe, interrupts.</summary>
public class Uart8250Tests
{
    // Register offsets and bits, from the 16550 data sheet (independent of the implementation's private constants).
    private const int Thr = 0, Ier = 1, Iir = 2, Fcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    private const byte LsrDr = 0x01, LsrThre = 0x20, LsrTemt = 0x40;
    private const byte McrDtr = 0x01, McrRts = 0x02, McrOut1 = 0x04, McrOut2 = 0x08, McrLoop = 0x10;

    private sealed class FakeIrq : IInterruptLine
    {
        public List<bool> Levels { get; } = [];
        public void SetLevel(bool asserted) => Levels.Add(asserted);
    }

    private sealed class RecordingSink : ISerialSink
    {
        public List<byte> Bytes { get; } = [];
        public void Write(byte value) => Bytes.Add(value);
    }

    private readonly RecordingSink _sink = new();
    private readonly FakeIrq _irq = new();
    private readonly Uart8250 _uart;

    public Uart8250Tests() => _uart = new Uart8250(_sink, _irq);

    private byte In(int register)
    {
        Span<byte> b = stackalloc byte[1];
        _uart.Read((ulong)register, b);
        return b[0];
    }

    private void Out(int register, byte value) => _uart.Write((ulong)register, [value]);

    /// <summary>Everything the UART has put into the sink so far.</summary>
    private byte[] Transmitted()
    {
        byte[] bytes = [.. _sink.Bytes];
        _sink.Bytes.Clear();
        return bytes;
    }

    [Fact]
    public void THR_writes_reach_the_sink_byte_exact()
    {
        byte[] sent = [.. "Hi\n"u8, 0x00, 0x0D, 0xFF, 0x80];
        foreach (byte b in sent) Out(Thr, b);
        Assert.Equal(sent, Transmitted());
        Assert.Equal(sent.Length, _uart.TransmittedBytes);
    }

    [Fact]
    public void LSR_reports_an_always_empty_transmitter_and_data_ready_from_the_FIFO()
    {
        Assert.Equal(LsrThre | LsrTemt, In(Lsr));
        Out(Thr, (byte)'x');
        Assert.Equal(LsrThre | LsrTemt, In(Lsr));   // never busy: the guest's polling loop ends at once
        _uart.EnqueueInput("a"u8);
        Assert.Equal(LsrThre | LsrTemt | LsrDr, In(Lsr));
        In(Thr);
        Assert.Equal(0, In(Lsr) & LsrDr);
    }

    [Fact]
    public void Input_is_read_from_RBR_in_order()
    {
        Assert.Equal(3, _uart.EnqueueInput("abc"u8));
        Assert.Equal((byte)'a', In(Thr));
        Assert.Equal((byte)'b', In(Thr));
        Assert.Equal((byte)'c', In(Thr));
        Assert.Equal(0, In(Lsr) & LsrDr);
    }

    [Fact]
    public void The_receive_FIFO_holds_64_bytes_and_wraps()
    {
        byte[] input = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Assert.Equal(64, _uart.EnqueueInput(input));
        Assert.Equal(0, _uart.EnqueueInput([0xEE]));   // full: nothing taken

        for (int i = 0; i < 10; i++) Assert.Equal((byte)i, In(Thr));
        // Ten slots freed: the next bytes go in behind the 54 still waiting, across the ring's end.
        Assert.Equal(10, _uart.EnqueueInput(input.AsSpan(64)));
        for (int i = 10; i < 74; i++) Assert.Equal((byte)i, In(Thr));
        Assert.Equal(0, In(Lsr) & LsrDr);
    }

    [Fact]
    public void FCR_bit_1_clears_the_receive_FIFO()
    {
        _uart.EnqueueInput("abc"u8);
        Out(Fcr, 0x03);
        Assert.Equal(0, In(Lsr) & LsrDr);
        Assert.Equal(3, _uart.EnqueueInput("xyz"u8));
        Assert.Equal((byte)'x', In(Thr));
    }

    [Fact]
    public void DLAB_switches_offsets_0_and_1_to_the_divisor_latch()
    {
        Out(Ier, 0x05);
        Out(Lcr, 0x83);                 // DLAB | 8N1
        Out(Thr, 0x01);                 // DLL: 115200 baud
        Out(Ier, 0x00);                 // DLM
        Assert.Equal(0x01, In(Thr));
        Assert.Equal(0x00, In(Ier));
        Assert.Empty(Transmitted());    // divisor writes are not data

        Out(Lcr, 0x03);
        Assert.Equal(0x03, In(Lcr));
        Assert.Equal(0x05, In(Ier));    // IER was kept apart from DLM
        Out(Thr, (byte)'z');
        Assert.Equal("z"u8.ToArray(), Transmitted());

        Out(Lcr, 0x80);
        Assert.Equal(0x01, In(Thr));    // the divisor survives
    }

    [Fact]
    public void Loopback_routes_THR_to_RBR_instead_of_the_sink()
    {
        Out(Mcr, McrLoop);
        Out(Thr, 0x5A);
        Assert.Empty(Transmitted());
        Assert.Equal(0, _uart.TransmittedBytes);
        Assert.Equal(LsrDr, In(Lsr) & LsrDr);
        Assert.Equal(0x5A, In(Thr));

        Out(Mcr, 0);
        Out(Thr, 0x5B);
        Assert.Equal([0x5B], Transmitted());
    }

    [Theory]
    [InlineData(McrDtr, 0x20)]    // DTR -> DSR
    [InlineData(McrRts, 0x10)]    // RTS -> CTS
    [InlineData(McrOut1, 0x40)]   // OUT1 -> RI
    [InlineData(McrOut2, 0x80)]   // OUT2 -> DCD
    [InlineData(McrRts | McrOut2, 0x90)]   // what Linux's 8250 probe writes and expects back
    [InlineData(0, 0x00)]
    public void Loopback_mirrors_MCR_outputs_into_MSR_inputs(byte mcrBits, byte msrHigh)
    {
        Out(Mcr, (byte)(McrLoop | mcrBits));
        Assert.Equal(msrHigh, In(Msr) & 0xF0);
    }

    [Fact]
    public void Without_loopback_the_modem_lines_read_as_connected()
    {
        Assert.Equal(0xB0, In(Msr) & 0xF0);   // DCD | DSR | CTS
    }

    [Fact]
    public void IIR_reports_received_data_then_THR_empty_then_nothing()
    {
        Assert.Equal(0x01, In(Iir) & 0x0F);   // no interrupt pending
        Out(Ier, 0x03);                        // RX available | THR empty
        _uart.EnqueueInput("q"u8);
        Assert.Equal(0x04, In(Iir) & 0x0F);   // RX data has priority
        In(Thr);
        Assert.Equal(0x02, In(Iir) & 0x0F);   // THR empty, raised when its enable was set
        Assert.Equal(0x01, In(Iir) & 0x0F);   // reading IIR acknowledged it
        Out(Thr, (byte)'!');
        Assert.Equal(0x02, In(Iir) & 0x0F);   // each transmitted byte raises it again
    }

    [Fact]
    public void IIR_shows_FIFOs_enabled_once_FCR_bit_0_is_set()
    {
        Assert.Equal(0, In(Iir) & 0xC0);
        Out(Fcr, 0x01);
        Assert.Equal(0xC0, In(Iir) & 0xC0);
    }

    [Fact]
    public void Interrupt_line_follows_pending_interrupts_gated_by_OUT2()
    {
        Out(Ier, 0x01);
        _uart.EnqueueInput("a"u8);
        Assert.Empty(_irq.Levels);              // OUT2 clear: nothing on the bus

        Out(Mcr, McrOut2);
        Assert.Equal([true], _irq.Levels);
        _uart.EnqueueInput("b"u8);
        Assert.Equal([true], _irq.Levels);      // level, not edge: no second assertion

        In(Thr);
        Assert.Equal([true], _irq.Levels);      // one byte still waits
        In(Thr);
        Assert.Equal([true, false], _irq.Levels);

        _uart.EnqueueInput("c"u8);
        Assert.Equal([true, false, true], _irq.Levels);
        Out(Mcr, 0);                            // dropping OUT2 lowers the line
        Assert.Equal([true, false, true, false], _irq.Levels);
    }

    [Fact]
    public void Disabling_the_interrupt_lowers_the_line()
    {
        Out(Mcr, McrOut2);
        Out(Ier, 0x02);                         // THR empty: raised at once
        Assert.Equal([true], _irq.Levels);
        Out(Ier, 0x00);
        Assert.Equal([true, false], _irq.Levels);
    }

    [Fact]
    public void Scratch_register_holds_a_byte()
    {
        Out(Scr, 0xA5);
        Assert.Equal(0xA5, In(Scr));
    }

    [Fact]
    public void Wide_reads_give_the_register_and_zeros_above()
    {
        Out(Scr, 0x77);
        byte[] data = [0xAA, 0xAA, 0xAA, 0xAA];
        _uart.Read(Scr, data);
        Assert.Equal([0x77, 0, 0, 0], data);
    }

    [Fact]
    public void CloseOutput_drops_later_bytes()
    {
        Out(Thr, (byte)'a');
        _uart.CloseOutput();
        Out(Thr, (byte)'b');
        Assert.Equal("a"u8.ToArray(), Transmitted());
        Assert.Equal(1, _uart.TransmittedBytes);
        // The guest still sees a working transmitter, so it does not hang polling LSR.
        Assert.Equal(LsrThre, In(Lsr) & LsrThre);
    }

    [Fact]
    public void Without_an_interrupt_line_everything_else_works()
    {
        var uart = new Uart8250(_sink);
        uart.Write(Mcr, [McrOut2]);
        uart.Write(Ier, [0x01]);
        Assert.Equal(1, uart.EnqueueInput("z"u8));
        Span<byte> b = stackalloc byte[1];
        uart.Read(Thr, b);
        Assert.Equal((byte)'z', b[0]);
    }
}
