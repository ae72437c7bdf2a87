using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// A plain ELF64 with no PVH or Solo5 notes (native/guest/linux64/linux64-hello.c) is entered the Linux 64-bit way,
/// as Firecracker enters vmlinux: long mode, RSI = the zero page holding the command line and the e820 map.
/// </summary>
public class Linux64GuestTests
{
    [Fact]
    public async Task Plain_ELF_reads_its_command_line_and_e820_map_from_the_zero_page()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("linux64-hello.elf"), "--memory", "64M", "--cmdline", "exit=3 foo=bar");

        Assert.True(r.ExitCode == 7, r.ToString());
        Assert.StartsWith("linux64 hello\n", r.Stdout);
        Assert.DoesNotContain("no setup header signature", r.Stdout);
        Assert.Contains("cmdline: exit=3 foo=bar\n", r.Stdout);
        Assert.Matches(@"e820: [1-9][0-9]* entries, 6[0-9]{4} KiB RAM", r.Stdout);
    }
}
