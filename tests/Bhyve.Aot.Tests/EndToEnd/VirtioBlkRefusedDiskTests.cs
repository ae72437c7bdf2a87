using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>Bad --disk arguments: status 2 and exactly one `bhyve-aot: ` line naming the problem, before any guest runs.</summary>
public sealed class VirtioBlkRefusedDiskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-disk-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("path={0},bogus=1", "unknown option 'bogus'")]
    [InlineData("path={0},queue-size=3", "queue-size=3")]
    [InlineData("path={0},size=64M", "only used with create")]
    [InlineData("path={1},create", "needs size=")]
    [InlineData("path={1}", "no such file")]
    [InlineData("path={0},serial=123456789012345678901", "at most 20")]
    public async Task Bad_disk_arguments_are_refused(string disk, string messagePart)
    {
        string existing = Path.Combine(_dir, "disk.img");
        using (var f = File.Create(existing)) f.SetLength(1 << 20);
        string missing = Path.Combine(_dir, "missing.img");

        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("blk-selftest.elf"), "--disk", string.Format(disk, existing, missing));

        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        Assert.True(r.Stdout == "", r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(messagePart, line);
        Assert.False(File.Exists(missing), "a refused --disk created its file");
        Assert.Equal(1L << 20, new FileInfo(existing).Length);
    }
}
