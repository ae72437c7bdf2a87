using System.Diagnostics;

namespace Bhyve.Aot.StorageBench;

/// <summary>What a child process printed and how it ended.</summary>
public sealed record ChildResult(int ExitCode, string Stdout, string Stderr, double WallSeconds)
{
    /// <summary>The first non-empty stderr line (or stdout's last), for a one-line failure reason.</summary>
    public string Reason()
    {
        string? line = Stderr.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(l => !l.Contains("host doesn't support requested feature", StringComparison.Ordinal));
        line ??= Stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return line ?? $"exit status {ExitCode}, no output";
    }
}

/// <summary>Runs a program to completion with stdin closed, both outputs captured, killed past a timeout.</summary>
public static class ChildProcess
{
    public static ChildResult Run(string fileName, IReadOnlyList<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        long t0 = Stopwatch.GetTimestamp();
        Process process;
        try { process = Process.Start(psi) ?? throw new BenchException($"could not start {fileName}"); }
        catch (System.ComponentModel.Win32Exception e) { throw new BenchException($"could not start {fileName}: {e.Message}"); }
        using (process)
        {
            process.StandardInput.Close();
            // Both pipes drained concurrently so neither can fill up and stall the child.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new BenchException($"{Path.GetFileName(fileName)} did not finish within {timeout.TotalSeconds:0} s");
            }
            process.WaitForExit();
            return new ChildResult(process.ExitCode, stdout.Result, stderr.Result, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
    }

    /// <summary>The full path of a program found in PATH, or null.</summary>
    public static string? FindInPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
