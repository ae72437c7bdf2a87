using System.Text;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>The raw-terminal quit sequence "~." at line start; everything else reaches the guest unchanged.</summary>
public class ConsoleEscapeTests
{
    private static (bool Quit, string Passed) Feed(ConsoleEscape e, string input)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(input);
        var output = new byte[bytes.Length + 1];
        bool quit = e.Filter(bytes, output, out int n);
        return (quit, Encoding.ASCII.GetString(output, 0, n));
    }

    [Theory]
    [InlineData("~.")]
    [InlineData("ls\r~.")]
    [InlineData("ls\n~.")]
    public void Tilde_dot_at_line_start_quits(string input) => Assert.True(Feed(new ConsoleEscape(), input).Quit);

    [Theory]
    [InlineData("a~.", "a~.")]          // not at line start
    [InlineData("~~.", "~.")]           // ~~ sends one ~
    [InlineData("~x", "~x")]            // ~ then anything else sends both
    [InlineData("echo hi\r", "echo hi\r")]
    [InlineData("\x03\x04", "\x03\x04")] // Ctrl-C and Ctrl-D go to the guest
    public void Everything_else_passes_through(string input, string expected)
    {
        var (quit, passed) = Feed(new ConsoleEscape(), input);
        Assert.False(quit);
        Assert.Equal(expected, passed);
    }

    [Fact]
    public void The_sequence_may_straddle_two_reads()
    {
        var e = new ConsoleEscape();
        var first = Feed(e, "\r~");
        Assert.False(first.Quit);
        Assert.Equal("\r", first.Passed);
        Assert.True(Feed(e, ".").Quit);
    }
}
