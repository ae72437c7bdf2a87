using System.CommandLine;
using Bhyve.Aot.Cli;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>`bench storage` inputs refused before anything runs: exit 2 and one line on stderr.</summary>
[Collection(ConsoleCollection.Name)]
public class BenchCommandTests
{
    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (Program.Invoke(new RootCommand("bhyve-aot") { BenchCommand.Create() }, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Theory]
    [InlineData("10s", 10000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120000)]
    [InlineData("3", 3000)]
    public void Durations_parse(string text, int ms)
    {
        Assert.True(BenchCommand.TryParseDuration(text, out int parsed));
        Assert.Equal(ms, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("10h")]
    [InlineData("0ms")]
    public void Bad_durations_do_not(string text) => Assert.False(BenchCommand.TryParseDuration(text, out _));

    [Theory]
    [InlineData("--duration=fast", "--duration: 'fast' is not a duration")]
    [InlineData("--device=scsi", "scsi")]
    [InlineData("--vs=xen", "xen")]
    [InlineData("--guest=/nonexistent/storage-bench.elf", "/nonexistent/storage-bench.elf: no such guest")]
    public void Refused_with_one_line_and_status_2(string arg, string expected)
    {
        var (code, stdout, stderr) = Run("bench", "storage", "--disk", "64M", arg);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void Disk_is_required()
    {
        var (code, _, stderr) = Run("bench", "storage");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--disk", stderr);
    }
}
