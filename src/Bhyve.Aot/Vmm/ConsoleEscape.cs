namespace Bhyve.Aot.Vmm;

/// <summary>
/// Watches terminal input for the quit sequence "~." at the start of a line (as ssh and cu do) and passes
/// everything else through. A "~" at line start is held back until the next byte: "~." quits, "~~" sends
/// one "~", and "~" followed by anything else sends both. Used only when stdin is a terminal in raw mode.
/// </summary>
public sealed class ConsoleEscape
{
    private bool _atLineStart = true;
    private bool _tildePending;

    /// <summary>Filters input into output (at most input.Length + 1 bytes); returns true when the user asked to quit.</summary>
    public bool Filter(ReadOnlySpan<byte> input, Span<byte> output, out int written)
    {
        written = 0;
        foreach (byte b in input)
        {
            if (_tildePending)
            {
                _tildePending = false;
                if (b == (byte)'.') return true;
                output[written++] = (byte)'~';
                if (b == (byte)'~') { _atLineStart = false; continue; }
            }
            else if (_atLineStart && b == (byte)'~')
            {
                _tildePending = true;
                continue;
            }
            output[written++] = b;
            _atLineStart = b is (byte)'\r' or (byte)'\n';
        }
        return false;
    }
}
