using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class MountTableTests
{
    private const string Mounts = """
        /dev/vda / ext4 rw,relatime 0 0
        proc /proc proc rw 0 0
        tmpfs /var/tmp tmpfs rw 0 0
        /dev/vdb /mnt/my\040disk xfs rw 0 0
        """;

    [Theory]
    [InlineData("/var/tmp/x.img", "tmpfs on tmpfs (/var/tmp)")]
    [InlineData("/var/tmpfoo/x.img", "ext4 on /dev/vda (/)")]
    [InlineData("/mnt/my disk/f", "xfs on /dev/vdb (/mnt/my disk)")]
    [InlineData("/home/a", "ext4 on /dev/vda (/)")]
    public void The_longest_mount_point_above_the_path_wins(string path, string expected) =>
        Assert.Equal(expected, MountTable.Describe(Mounts, path));

    [Fact]
    public void No_mounts_no_answer() => Assert.Null(MountTable.Describe("", "/x"));
}
