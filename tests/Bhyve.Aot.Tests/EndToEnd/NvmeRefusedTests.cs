using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>Bad --nvme backing stores: status 2 and exactly one `bhyve-aot: ` line naming the problem, before any guest runs.</summary>
public sealed class NvmeRefusedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-nvme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("path={1}", "no such file")]
    [InlineData("path={0},size=2M,create", "not the requested")]
    [InlineData("path={2},sector-size=4096", "smaller than one 4096-byte sector")]
    [InlineData("path={0},bogus", "unknown option 'bogus'")]
    public async Task Bad_nvme_backends_are_refused(string nvme, string messagePart)
    {
        string existing = Path.Combine(_dir, "disk.img");
        using (var f = File.Create(existing)) f.SetLength(1 << 20);
        string tiny = Path.Combine(_dir, "tiny.img");
        using (var f = File.Create(tiny)) f.SetLength(512);
        string missing = Path.Combine(_dir, "missing.img");

        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--nvme", string.Format(nvme, existing, missing, tiny));

        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(messagePart, line);
        Assert.False(File.Exists(missing));
        Assert.Equal(1L << 20, new FileInfo(existing).Length);
    }

    [Fact]
    public async Task A_guest_that_ignores_the_controller_still_runs_and_stats_print_an_nvme_line()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hello.elf"), "--cmdline", "exit=3", "--nvme", "ram=16M", "--stats");
        Assert.True(r.ExitCode == 7, r.ToString());
        Assert.Contains(r.StderrLines, l => l.StartsWith("bhyve-aot: nvme: 0 I/O commands", StringComparison.Ordinal));
    }
}
