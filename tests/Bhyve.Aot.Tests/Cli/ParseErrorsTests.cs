using Bhyve.Aot.Cli;
using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>"Did you mean": the nearest name a command takes, within reach of a typo, and nothing when none is close.</summary>
public class ParseErrorsTests
{
    private static readonly string[] RunOptions = ["--kernel", "--memory", "--cpus", "--cmdline", "--config", "--disk", "--nvme", "--initrd", "--stats"];

    [Theory]
    [InlineData("--kernal", "--kernel")]
    [InlineData("--memroy", "--memory")]
    [InlineData("--cpu", "--cpus")]
    [InlineData("--stat", "--stats")]
    [InlineData("--kernel=x", null)]           // exact (with a value) is not a typo of something else... but is the name itself
    [InlineData("--frobnicate", null)]
    [InlineData("--dsk", "--disk")]
    public void Closest_suggests_a_near_name(string typed, string? expected)
    {
        string? guess = ParseErrors.Closest(typed, RunOptions);
        if (typed == "--kernel=x") Assert.Equal("--kernel", guess);
        else Assert.Equal(expected, guess);
    }

    [Fact]
    public void Commands_are_suggested_too() => Assert.Equal("check", ParseErrors.Closest("chekc", ["run", "check", "config", "bench"]));
}
