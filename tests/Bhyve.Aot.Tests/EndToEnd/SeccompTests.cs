using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The filters installed for real, in the AOT binary: `bhyve-aot seccomp-probe KIND NR ARGS` makes one system call
/// on a thread filtered as KIND. Allowed calls return; a forbidden one ends the process with one line naming the
/// thread and the call, and status 10 (ExitCodes.VmmFailure), as it would in a VM. Every other end-to-end test
/// runs its guests under the filters (they are on by default).
/// </summary>
public sealed class SeccompTests
{
    private static Task<ProcessResult> Probe(params string[] args) => ProcessRunner.RunBhyveAsync(["seccomp-probe", .. args]);

    [Theory]
    [InlineData("worker", "41", "socket", "device worker", new[] { "1", "1", "0" })]     // socket(AF_UNIX)
    [InlineData("vcpu", "257", "openat", "vcpu", new[] { "0", "0", "2" })]                // openat(O_RDWR)
    [InlineData("main", "59", "execve", "main", new[] { "0", "0", "0" })]
    [InlineData("api", "41", "socket", "api", new[] { "2", "1", "0" })]                 // socket(AF_INET)
    [InlineData("worker", "9", "mmap", "device worker", new[] { "0", "4096", "7" })]    // PROT_EXEC
    [InlineData("vcpu", "16", "ioctl", "vcpu", new[] { "0", "44545", "0" })]           // KVM_CREATE_VM (0xAE01)
    public async Task A_forbidden_call_ends_the_process_with_one_line_and_status_10(string kind, string nr, string name, string kindName, string[] args)
    {
        var r = await Probe([kind, nr, .. args]);
        Assert.True(r.ExitCode == ExitCodes.VmmFailure, r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.Equal($"bhyve-aot: seccomp: thread 'seccomp-probe' ({kindName}) made a forbidden system call {nr} ({name}); stopping the VM (--seccomp=off runs without filters)", line);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("worker", "39")]                       // getpid
    [InlineData("api", "41", "1", "1", "0")]           // socket(AF_UNIX)
    [InlineData("vcpu", "16", "0", "21505", "0")]      // ioctl(0, TCGETS): allowed (ENOTTY on a pipe)
    [InlineData("worker", "9", "0", "4096", "3")]      // mmap without PROT_EXEC: allowed (EINVAL: no flags)
    [InlineData("main", "257", "0", "0", "524288")]    // openat read-only: allowed (EFAULT: no path)
    public async Task An_allowed_call_returns(params string[] args)
    {
        var r = await Probe(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("returned ", r.Stdout);
    }

    [Fact]
    public async Task Seccomp_off_is_accepted_and_the_guest_runs()
    {
        var r = await ProcessRunner.RunBhyveAsync(["run", "--seccomp", "off", "--kernel", Repo.Guest("hello.elf"), "--memory", "64M", "--cmdline", "exit=3"]);
        Assert.True(r.ExitCode == 7, r.ToString());
        var bad = await ProcessRunner.RunBhyveAsync(["run", "--seccomp", "maybe", "--kernel", Repo.Guest("hello.elf")]);
        Assert.True(bad.ExitCode == ExitCodes.Usage, bad.ToString());
    }
}
