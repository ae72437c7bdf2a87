using Bhyve.Aot.StorageBench;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

/// <summary>The suite's guest travels inside the assembly: the bytes are the built ELF, and a run gets a private copy.</summary>
public class EmbeddedGuestTests
{
    [Fact]
    public void The_resource_is_the_built_storage_bench_elf()
    {
        byte[] embedded = EmbeddedGuest.Read();
        Assert.Equal(File.ReadAllBytes(Repo.Guest("storage-bench.elf")), embedded);
        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, embedded[..4]);
    }

    [Fact]
    public void Extract_writes_a_private_copy_and_dispose_removes_it()
    {
        string path;
        using (var guest = EmbeddedGuest.Extract())
        {
            path = guest.Path;
            Assert.Equal(EmbeddedGuest.Read(), File.ReadAllBytes(path));
            Assert.EndsWith("storage-bench.elf", path);
        }
        Assert.False(File.Exists(path));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }
}
