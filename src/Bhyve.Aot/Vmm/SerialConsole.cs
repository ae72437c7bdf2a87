using System.IO.Pipelines;
using Bhyve.Aot.Devices.Legacy;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// Connects the guest's UART to the terminal. Output: the UART writes into a Pipe with no back-pressure
/// (a vCPU never waits for the terminal); a pump task drains it to stdout. Input: a thread reads stdin
/// and offers bytes to the UART's receive FIFO, waiting while the guest has not read them.
/// </summary>
public sealed class SerialConsole
{
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Task _pump;

    public SerialConsole(Stream output)
    {
        _pump = PumpAsync(_pipe.Reader, output);
    }

    /// <summary>Where the UART writes the guest's bytes.</summary>
    public PipeWriter GuestOutput => _pipe.Writer;

    /// <summary>
    /// Feeds stdin to the UART on a background thread; stops at end of input. With an escape filter (a raw
    /// terminal), the quit sequence calls quit instead of reaching the guest.
    /// </summary>
    public void StartInput(Stream input, Uart8250 uart, ConsoleEscape? escape = null, Action? quit = null)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[256];
            var filtered = new byte[buffer.Length + 1];
            try
            {
                int n;
                while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
                {
                    var pending = buffer.AsSpan(0, n);
                    if (escape is not null)
                    {
                        if (escape.Filter(pending, filtered, out int kept)) { quit?.Invoke(); return; }
                        pending = filtered.AsSpan(0, kept);
                    }
                    while (!pending.IsEmpty)
                    {
                        int taken = uart.EnqueueInput(pending);
                        pending = pending[taken..];
                        if (taken == 0) Thread.Sleep(1);
                    }
                }
            }
            catch (IOException) { }
            catch (ObjectDisposedException) { }
        })
        { IsBackground = true, Name = "console-input" };
        thread.Start();
    }

    /// <summary>Ends output and waits until every byte the guest wrote has reached the terminal.</summary>
    public async Task CloseAsync()
    {
        await _pipe.Writer.CompleteAsync();
        await _pump;
    }

    private static async Task PumpAsync(PipeReader reader, Stream output)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                foreach (var segment in result.Buffer) await output.WriteAsync(segment);
                await output.FlushAsync();
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (IOException)
        {
            // The terminal went away (closed pipe): the guest keeps running, its output is dropped.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }
}
