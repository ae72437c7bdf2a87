using Bhyve.Aot.Devices.Legacy;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// Connects the guest's UART to the terminal. Output: the UART writes into a bounded <see cref="ConsoleBuffer"/>
/// (a vCPU never waits for the terminal; past the bound bytes are dropped and counted); a console thread drains
/// it to the output stream. A failing output (closed pipe, full disk) is reported once and from then on the
/// guest's output is dropped while the guest keeps running. Input: a thread reads stdin and offers bytes to the
/// UART's receive FIFO, waiting while the guest has not read them.
/// </summary>
public sealed class SerialConsole
{
    private const int ChunkSize = 4096;
    private readonly ConsoleBuffer _buffer;
    private readonly Stream _output;
    private readonly TextWriter _diagnostics;
    private readonly string _prefix;
    private readonly Thread _pump;
    private readonly ManualResetEventSlim _drained = new(false);
    private volatile bool _closing;
    private volatile string? _failure;

    /// <param name="output">where the guest's bytes go (stdout by default)</param>
    /// <param name="diagnostics">where the one-line reports go (stderr by default)</param>
    /// <param name="prefix">prefix of those lines ("bhyve-aot: vm: ")</param>
    public SerialConsole(Stream output, int capacity = ConsoleBuffer.DefaultCapacity, TextWriter? diagnostics = null, string prefix = "bhyve-aot: ")
    {
        _buffer = new ConsoleBuffer(capacity);
        _output = output;
        _diagnostics = diagnostics ?? Console.Error;
        _prefix = prefix;
        _pump = new Thread(Pump) { IsBackground = true, Name = "console-output" };
        _pump.Start();
    }

    /// <summary>Where the UART writes the guest's bytes.</summary>
    public ISerialSink GuestOutput => _buffer;

    /// <summary>Bytes the guest wrote that reached the buffer.</summary>
    public long WrittenBytes => _buffer.Written;

    /// <summary>Bytes the guest wrote that never reached the output (the buffer was full or the output failed).</summary>
    public long DroppedBytes => _buffer.Dropped;

    /// <summary>Why the output stopped taking bytes, once it has; null while it works.</summary>
    public string? OutputFailure => _failure;

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

    /// <summary>
    /// Ends output: waits (at most <paramref name="timeout"/>, for an output that stopped draining) until every
    /// byte in the buffer has reached the output; what could not be written is counted as dropped. Prints one
    /// warning line when anything was dropped. Call after the UART has stopped writing.
    /// </summary>
    public void Close(TimeSpan timeout)
    {
        _closing = true;
        _buffer.DataReady.Set();
        if (!_drained.Wait(timeout))
            _buffer.CountDropped(_buffer.Count);
        if (_buffer.Dropped > 0)
            _diagnostics.WriteLine($"{_prefix}console: {_buffer.Dropped} bytes of guest output were dropped "
                + (_failure is null ? $"(the output did not keep up; the buffer holds {_buffer.Capacity >> 10} KiB)" : $"({_failure})"));
    }

    public void Close() => Close(TimeSpan.FromSeconds(5));

    private void Pump()
    {
        var chunk = new byte[ChunkSize];
        while (true)
        {
            int n = _buffer.Read(chunk);
            if (n == 0)
            {
                // Closing is checked after an empty Read and before waiting: Read resets DataReady when it empties the
                // ring, which could swallow Close's Set if we waited first (then Close waited out its whole timeout).
                if (_closing) break;
                _buffer.DataReady.Wait();
                continue;
            }
            if (_failure is not null)
            {
                _buffer.CountDropped(n);
                continue;
            }
            try
            {
                _output.Write(chunk, 0, n);
                _output.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
            {
                // Reported once; the guest keeps running and its later output is counted as dropped.
                _failure = $"writing the console output failed: {e.Message}";
                _diagnostics.WriteLine($"{_prefix}{_failure}; the guest keeps running, its console output is dropped");
                _buffer.CountDropped(n);
            }
        }
        _drained.Set();
    }
}
