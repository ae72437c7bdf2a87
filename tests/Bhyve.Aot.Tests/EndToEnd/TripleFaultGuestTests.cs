using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>A guest that faults with no IDT triple-faults; bhyve-aot reports it as its own even exit status.</summary>
public class TripleFaultGuestTests
{
    [Fact]
    public async Task Triple_fault_exits_4_with_one_line_saying_so()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("triplefault.elf"));

        Assert.Equal("triplefault guest: faulting now\n", r.Stdout);
        Assert.Equal(ExitCodes.TripleFault, r.ExitCode);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains("triple-fault", line);
    }
}
