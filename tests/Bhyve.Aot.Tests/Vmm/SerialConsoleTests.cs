using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>The console as the vCPU and the terminal see it: a stalled or failing terminal never blocks the guest.</summary>
public class SerialConsoleTests
{
    /// <summary>A terminal nobody reads: every write blocks until released.</summary>
    private sealed class StalledStream : MemoryStream
    {
        public readonly ManualResetEventSlim Release = new(false);
        public override void Write(byte[] buffer, int offset, int count) { Release.Wait(); base.Write(buffer, offset, count); }
    }

    /// <summary>A closed pipe: every write fails.</summary>
    private sealed class FailingStream : MemoryStream
    {
        public int Writes;
        public override void Write(byte[] buffer, int offset, int count) { Writes++; throw new IOException("Broken pipe"); }
    }

    /// <summary>
    /// Close must not lose its wake-up to the console thread's reset of DataReady (it then waited out its whole
    /// timeout: a 5 s stall at the end of about one run in three under load). 300 rounds of write + close, each with
    /// a 10 s timeout: one lost wake-up alone would take the total past the bound, which is far above what a drained
    /// close costs.
    /// </summary>
    [Fact]
    public void Close_returns_once_the_output_has_drained_never_after_its_timeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < 300; round++)
        {
            var output = new MemoryStream();
            var console = new SerialConsole(output, diagnostics: TextWriter.Null);
            for (int i = 0; i < 100; i++) console.GuestOutput.Write((byte)'x');
            console.Close(TimeSpan.FromSeconds(10));
            Assert.Equal(100, output.Length);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"300 closes took {clock.Elapsed.TotalSeconds:0.0} s: a close waited out its timeout");
    }

    [Fact]
    public void Everything_written_reaches_the_output_on_close()
    {
        var output = new MemoryStream();
        var errors = new StringWriter();
        var console = new SerialConsole(output, diagnostics: errors);
        foreach (byte b in "hello, console\n"u8) console.GuestOutput.Write(b);
        console.Close();
        Assert.Equal("hello, console\n", System.Text.Encoding.ASCII.GetString(output.ToArray()));
        Assert.Equal(0, console.DroppedBytes);
        Assert.Equal("", errors.ToString());
    }

    [Fact]
    public void A_stalled_output_never_blocks_the_writer_and_drops_past_the_bound()
    {
        var output = new StalledStream();
        var errors = new StringWriter();
        var console = new SerialConsole(output, capacity: 1024, diagnostics: errors, prefix: "bhyve-aot: vm1: ");
        var uart = new Uart8250(console.GuestOutput);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 1_000_000; i++) uart.Write(0, [(byte)'a']);
        sw.Stop();
        // A million bytes went past a 1 KiB bound while the output took none: the writer went on, the rest was dropped.
        Assert.Equal(1_000_000, uart.TransmittedBytes);
        Assert.True(console.DroppedBytes >= 1_000_000 - 1024 - 4096, $"dropped {console.DroppedBytes}");
        Assert.True(console.WrittenBytes <= 1024 + 4096, $"accepted {console.WrittenBytes}");
        console.Close(TimeSpan.FromMilliseconds(200));
        Assert.Contains("bhyve-aot: vm1: console: ", errors.ToString());
        Assert.Contains("bytes of guest output were dropped", errors.ToString());
        Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        output.Release.Set();
    }

    [Fact]
    public void A_failing_output_is_reported_once_and_the_guest_keeps_writing()
    {
        var output = new FailingStream();
        var errors = new StringWriter();
        var console = new SerialConsole(output, diagnostics: errors);
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 100; i++) console.GuestOutput.Write((byte)'z');
            Thread.Sleep(2);
        }
        console.Close();
        Assert.Equal(1, output.Writes);
        Assert.Equal(2000, console.DroppedBytes);
        Assert.NotNull(console.OutputFailure);
        var lines = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // the failure, once; the drop count at exit
        Assert.Contains("Broken pipe", lines[0]);
        Assert.Contains("2000 bytes of guest output were dropped", lines[1]);
    }
}
