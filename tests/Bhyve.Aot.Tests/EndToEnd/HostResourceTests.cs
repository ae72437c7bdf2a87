using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// A host that runs out of something is not a host without KVM: guest RAM beyond `ulimit -v` exits with the
/// host-resource status and one line naming the resource, not 8 ("this host cannot run VMs").
/// </summary>
public class HostResourceTests
{
    [Fact]
    public async Task Guest_ram_beyond_the_address_space_limit_exits_with_the_host_resource_status()
    {
        Repo.RequireKvm();
        // About 2.9 GiB of address space: the runtime starts, 8 GiB of guest RAM cannot be mapped.
        var r = await ProcessRunner.RunAsync("/bin/sh",
            ["-c", "ulimit -v 3000000 && exec \"$0\" \"$@\"", Repo.Binary,
             "run", "--kernel", Repo.Guest("hello.elf"), "--memory", "8G", "--cmdline", "exit=0"]);
        Assert.True(r.ExitCode == ExitCodes.HostResource, r.ToString());
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: host out of memory", line);
        Assert.Matches(@"mmap \d+ MiB of guest RAM failed", line);   // the first region that does not fit
        Assert.Contains("ulimit -v", line);
        Assert.DoesNotContain("xception", line);
    }
}
