namespace Bhyve.Aot.StorageBench;

/// <summary>
/// Progress on stderr while the suite runs: on a terminal one line rewritten in place ("[ 7/42] 4k-randread-qd32
/// qemu virtio-blk, round 1/2"), elsewhere (a log, a test) one plain line per step.
/// </summary>
public sealed class ProgressDisplay(TextWriter output, bool interactive, int totalSteps)
{
    private int _step;
    private int _lastWidth;

    public int Step => _step;

    /// <summary>Announces the next step.</summary>
    public void Begin(string what)
    {
        _step++;
        string line = $"[{_step,3}/{totalSteps}] {what}";
        if (interactive)
        {
            output.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
        }
        else output.WriteLine(line);
        output.Flush();
    }

    /// <summary>A message that must stay visible (a target found unavailable, a failed run).</summary>
    public void Note(string message)
    {
        if (interactive && _lastWidth > 0) output.Write("\r" + new string(' ', _lastWidth) + "\r");
        _lastWidth = 0;
        output.WriteLine(message);
        output.Flush();
    }

    /// <summary>Clears the in-place line at the end.</summary>
    public void Finish()
    {
        if (interactive && _lastWidth > 0) output.Write("\r" + new string(' ', _lastWidth) + "\r");
        _lastWidth = 0;
        output.Flush();
    }
}
