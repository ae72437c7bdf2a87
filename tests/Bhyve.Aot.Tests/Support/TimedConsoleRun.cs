using System.Diagnostics;

namespace Bhyve.Aot.Tests.Support;

/// <summary>One console line and when it arrived, counted from the exec of the process.</summary>
internal readonly record struct TimedLine(TimeSpan At, string Text);

/// <summary>
/// Runs a program and keeps every stdout line with its arrival time, so a test can tell how far a slow
/// boot got and when. Stops it when the caller has seen enough, when it exits, or at the time bound.
/// </summary>
internal sealed class TimedConsoleRun
{
    private readonly List<TimedLine> _lines = [];
    private readonly object _gate = new();

    public IReadOnlyList<TimedLine> Lines { get { lock (_gate) return _lines.ToArray(); } }
    public string Stderr { get; private set; } = "";
    /// <summary>The exit status, or null when we stopped it.</summary>
    public int? ExitCode { get; private set; }
    public TimeSpan Elapsed { get; private set; }

    /// <summary>True when the run was stopped because no line came for the idle limit after output had begun.</summary>
    public bool StoppedIdle { get; private set; }

    /// <param name="idle">once output has begun, stop when no new line arrives for this long (null: never)</param>
    public static async Task<TimedConsoleRun> RunAsync(string fileName, IEnumerable<string> args, TimeSpan bound,
        Func<IReadOnlyList<TimedLine>, bool> enough, string? stdin = null, TimeSpan? idle = null)
    {
        var run = new TimedConsoleRun();
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            IReadOnlyList<TimedLine> snapshot;
            lock (run._gate)
            {
                run._lines.Add(new TimedLine(clock.Elapsed, e.Data));
                snapshot = run._lines.ToArray();
            }
            if (enough(snapshot)) done.TrySetResult();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var exited = process.WaitForExitAsync();
        var deadline = Task.Delay(bound);
        while (await Task.WhenAny(done.Task, exited, deadline, Task.Delay(1000)) is var finished
               && finished != done.Task && finished != exited && finished != deadline)
        {
            var lines = run.Lines;
            if (idle is { } limit && lines.Count > 0 && clock.Elapsed - lines[^1].At > limit)
            {
                run.StoppedIdle = true;
                break;
            }
        }
        run.Elapsed = clock.Elapsed;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        if (exited.IsCompletedSuccessfully && !done.Task.IsCompleted && clock.Elapsed < bound + TimeSpan.FromSeconds(5))
            run.ExitCode = process.ExitCode;
        run.Stderr = await stderr;
        return run;
    }
}
