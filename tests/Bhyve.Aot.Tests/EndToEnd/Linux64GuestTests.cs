using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// A plain ELF64 (no PVH, no Solo5 notes) entered the Linux 64-bit way, as Firecracker enters vmlinux: long mode,
/// RSI = zero page. linux64-hello reads its command line and e820 map from the zero page and exits through 0x501.
/// </summary>
public class Linux64GuestTests
{
    [Theory]
    [InlineData("64M", "exit=5 a=b", 5)]
    [InlineData("128M", "", 0)]
    public async Task Plain_ELF_reads_the_zero_page_and_exits_with_the_requested_status(string memory, string cmdline, int value)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("linux64-hello.elf"), "--memory", memory, "--cmdline", cmdline);

        Assert.True(r.Stderr == "", r.ToString());
        Assert.True(Bhyve.Aot.Vmm.ByteSize.TryParse(memory, out ulong bytes));
        // RAM in the e820 map: all of it but 0x9FC00..1 MiB, which is reported reserved.
        ulong kib = (bytes - (0x10_0000 - 0x9_FC00)) >> 10;
        Assert.Matches($"^linux64 hello\ncmdline: {cmdline}\ne820: \\d+ entries, {kib} KiB RAM\nexit: {value}\n$", r.Stdout);
        Assert.Equal((value << 1) | 1, r.ExitCode);
    }
}
