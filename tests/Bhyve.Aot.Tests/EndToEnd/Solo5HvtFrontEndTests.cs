using System.Diagnostics;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// `bhyve-aot solo5-hvt` (and the binary named solo5-hvt) on our own hvt guests (native/guest/hvt, ABI 1), so these
/// run wherever `make test` does: solo5-hvt's memory rules, its refusals with status 1 and its words, the tap's MTU
/// and --net-mac reaching the guest, and SIGTERM/SIGINT ending the run as solo5-hvt's signal handler does.
/// </summary>
public sealed class Solo5HvtFrontEndTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-solo5-hvt-").FullName;
    private readonly string _netns = $"bhfe-{Environment.ProcessId}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ProcessRunner.RunAsync("ip", ["netns", "delete", _netns]);
        Directory.Delete(_dir, recursive: true);
    }

    private static Task<ProcessResult> Solo5Hvt(params string[] args) => ProcessRunner.RunBhyveAsync(["solo5-hvt", .. args]);

    [Fact]
    public async Task An_ABI_1_unikernel_runs_with_solo5_hvts_memory_rules_and_its_own_exit_status()
    {
        var r = await Solo5Hvt("--mem=2", Repo.Guest("hvt-hello.elf"), "exit=7", "two");
        Assert.True(r.Stderr == "", r.ToString());
        Assert.Contains("cmdline: exit=7 two\nmemory: 2 MiB\n", r.Stdout);
        Assert.Equal(7, r.ExitCode);

        r = await Solo5Hvt("--mem=5", "--", Repo.Guest("hvt-hello.elf"));
        Assert.Equal("solo5-hvt: adjusting memory to 4194304 bytes\n", r.Stderr);
        Assert.Contains("memory: 4 MiB\n", r.Stdout);
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public async Task The_binary_named_solo5_hvt_is_solo5_hvt()
    {
        string link = Path.Combine(_dir, "solo5-hvt");
        File.CreateSymbolicLink(link, Repo.Binary);
        var r = await ProcessRunner.RunAsync(link, ["--mem=2", Repo.Guest("hvt-hello.elf"), "exit=3"]);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("memory: 2 MiB\n", r.Stdout);
    }

    [Theory]
    [InlineData(new[] { "--mem=2" }, "solo5-hvt: Missing KERNEL operand")]
    [InlineData(new[] { "--mem=8192", "@hvt-hello.elf" }, "solo5-hvt: guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes")]
    [InlineData(new[] { "--mem=0", "@hvt-hello.elf" }, "solo5-hvt: Malformed argument to --mem")]
    [InlineData(new[] { "/nonexistent/app.hvt" }, "solo5-hvt: /nonexistent/app.hvt: Could not open: No such file or directory")]
    [InlineData(new[] { "@hello.elf" }, "No Solo5 ABI information found in executable")]
    [InlineData(new[] { "@hvt-blk.elf" }, "solo5-hvt: Device 'storage' of type BLOCK_BASIC declared but not attached.", "solo5-hvt: All declared devices must be attached. See --help for syntax.")]
    [InlineData(new[] { "--block:other=/dev/null", "@hvt-blk.elf" }, "solo5-hvt: Resource not declared in manifest: 'other'", "solo5-hvt: Invalid option: `--block:other=/dev/null'")]
    [InlineData(new[] { "--block:storage=/nonexistent.img", "@hvt-blk.elf" }, "solo5-hvt: Could not open block device: /nonexistent.img: No such file or directory")]
    [InlineData(new[] { "--dumpcore=/nonexistent/dir", "@hvt-hello.elf" }, "solo5-hvt: dumpcore: cannot open dir")]
    [InlineData(new[] { "--frobnicate", "@hvt-hello.elf" }, "solo5-hvt: Invalid option: `--frobnicate'", "usage: solo5-hvt")]
    [InlineData(new[] { "--help" }, "usage: solo5-hvt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]")]
    public async Task Refusals_are_solo5_hvts_sentences_with_status_1(string[] args, params string[] lines)
    {
        var r = await Solo5Hvt(args.Select(a => a.StartsWith('@') ? Repo.Guest(a[1..]) : a).ToArray());
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal("", r.Stdout);
        foreach (var line in lines) Assert.Contains(line, r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public async Task Version_exits_0()
    {
        var r = await Solo5Hvt("--version", "ignored.hvt");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("ABI version 2", r.Stderr);
    }

    [Theory]
    [InlineData("TERM", 15)]
    [InlineData("INT", 2)]
    public async Task A_signal_ends_the_run_as_solo5_hvt_does_after_the_guest_saw_the_taps_MTU_and_the_given_MAC(string signal, int number)
    {
        await Ip("netns", "add", _netns);
        // No IPv6 on the new tap: its neighbour discovery would hand the guest a frame and end the run early.
        await Ip("netns", "exec", _netns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        await Ip("-n", _netns, "tuntap", "add", "tap0", "mode", "tap");
        await Ip("-n", _netns, "link", "set", "dev", "tap0", "up", "mtu", "4000");
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", _netns, Repo.Binary, "solo5-hvt", "--net:service=tap0", "--net-mac:service=02:aa:bb:cc:dd:0e", Repo.Guest("hvt-net.elf") })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        // The guest prints its MAC and MTU, sends one frame, then polls up to ~5 s for one back: nothing comes.
        string first = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) ?? "";
        Assert.Equal("net: mac 02:aa:bb:cc:dd:0e mtu 4000", first);
        var clock = Stopwatch.StartNew();
        await ProcessRunner.RunAsync("kill", [$"-{signal}", p.Id.ToString()]);
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, p.ExitCode);
        Assert.Contains($"solo5-hvt: Exiting on signal {number}\n", await stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed} to stop: the signal waited for the guest's poll to time out");
    }

    private static async Task Ip(params string[] args)
    {
        var r = await ProcessRunner.RunAsync("ip", args);
        Assert.True(r.ExitCode == 0, $"cannot set up the test's network namespace (needs root and /dev/net/tun): ip {string.Join(' ', args)}\n{r}");
    }
}
