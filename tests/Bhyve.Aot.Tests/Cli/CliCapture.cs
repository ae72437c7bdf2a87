namespace Bhyve.Aot.Tests.Cli;

/// <summary>What an in-process CLI call printed and returned.</summary>
internal sealed record CliResult(int Code, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {Code}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs CLI code in-process with Console.Out/Error captured; callers sit in ConsoleCollection.</summary>
internal static class CliCapture
{
    public static CliResult Run(Func<int> run)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return new CliResult(run(), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
