using System.Diagnostics;

namespace Bhyve.Aot.Devices.Runtime;

/// <summary>
/// Where device workers report a failure they caught: one line naming the device and the reason, at most one line
/// per interval (a guest that breaks a device in a loop cannot flood the console); lines held back are counted and
/// the next printed line says how many. Every report is counted, printed or not.
/// </summary>
public sealed class DeviceFaultLog(TextWriter output, TimeSpan interval)
{
    private readonly Lock _lock = new();
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
    private long _lastPrinted = long.MinValue;
    private int _suppressed;
    private long _total;

    /// <summary>The process's log: stderr, one line per second at most.</summary>
    public static DeviceFaultLog Shared { get; } = new(Console.Error, TimeSpan.FromSeconds(1));

    /// <summary>Failures reported so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Report(string device, string reason)
    {
        Interlocked.Increment(ref _total);
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            if (_lastPrinted != long.MinValue && now - _lastPrinted < _intervalTicks)
            {
                _suppressed++;
                return;
            }
            _lastPrinted = now;
            string held = _suppressed > 0 ? $" ({_suppressed} more device failures not shown)" : "";
            _suppressed = 0;
            try { output.WriteLine($"bhyve-aot: {device} failed and stopped until the guest resets it: {reason}{held}"); }
            catch (IOException) { } // a closed stderr must not take the worker's boundary down with it
        }
    }
}
