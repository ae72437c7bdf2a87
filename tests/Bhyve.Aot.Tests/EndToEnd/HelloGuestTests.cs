using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>The published binary boots native/guest's hello.elf: byte-exact serial output and the debug-exit status.</summary>
public class HelloGuestTests
{
    [Fact]
    public async Task Hello_prints_its_cmdline_and_memory_and_exits_with_the_requested_status()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--memory", "64M", "--cmdline", "exit=3 foo=bar");

        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal("Bhyve.Aot hello guest\ncmdline: exit=3 foo=bar\nmemory: 65151 KiB\nexit: 3\n", r.Stdout);
        Assert.Equal(7, r.ExitCode);
    }

    [Theory]
    [InlineData("exit=0", 0)]
    [InlineData("exit=1", 1)]
    [InlineData("exit=100", 100)]
    [InlineData("exit=127", 127)]
    [InlineData("exit=128", 128)]   // status wraps to 8 bits, as on QEMU
    [InlineData("exit=255", 255)]
    [InlineData("exit=300", 0)]     // the guest maps values over 255 to 0
    [InlineData("", 0)]             // no exit= at all
    public async Task Exit_status_is_the_debug_exit_encoding_of_the_guest_value(string cmdline, int guestValue)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--cmdline", cmdline);

        Assert.True(r.Stderr == "", r.ToString());
        Assert.EndsWith($"cmdline: {cmdline}\nmemory: 65151 KiB\nexit: {guestValue}\n", r.Stdout);
        Assert.Equal(((guestValue << 1) | 1) & 0xFF, r.ExitCode);
        Assert.Equal(DebugExit.StatusFor((ulong)guestValue), r.ExitCode);
    }

    [Theory]
    [InlineData("4M")]
    [InlineData("128M")]
    [InlineData("3G")]
    [InlineData("5G")]
    public async Task Memory_reported_to_the_guest_is_what_was_asked_for_less_the_legacy_hole(string memory)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--memory", memory, "--cmdline", "exit=5");

        Assert.Equal(11, r.ExitCode);
        Assert.True(Bhyve.Aot.Vmm.ByteSize.TryParse(memory, out ulong bytes));
        // All RAM but 0x9FC00..1 MiB, which is reported reserved.
        ulong kib = (bytes - (0x10_0000 - 0x9_FC00)) >> 10;
        Assert.Contains($"memory: {kib} KiB\n", r.Stdout);
    }

    [Fact]
    public async Task Several_vCPUs_boot_the_same_guest()
    {
        // Only the boot CPU runs the guest; the others wait for INIT/SIPI and must not disturb the result.
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--cpus", "4", "--cmdline", "exit=9");
        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal(19, r.ExitCode);
    }
}
