using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

/// <summary>The shared file: created and removed, filled so blocks are allocated, reset before a discard series,
/// and punched by the host column with st_blocks following.</summary>
public sealed class BackingFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-backing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Fill_allocates_and_punching_gives_the_space_back()
    {
        string path;
        using (var file = BackingFile.CreateTemporary(_dir, 8 << 20))
        {
            path = file.Path;
            Assert.Equal(8 << 20, new FileInfo(path).Length);
            Assert.Equal(0, file.AllocatedBlocks());             // created sparse
            file.Fill();
            Assert.True(file.AllocatedBlocks() * 512 >= 8 << 20);
            byte[] head = new byte[16];
            using (var f = File.OpenRead(path)) f.ReadExactly(head);
            Assert.Contains(head, b => b != 0);                   // real data, not zeros

            long before = file.AllocatedBlocks();
            double[] samples = file.PunchSeries(1 << 20, 4);
            Assert.Equal(4, samples.Length);
            Assert.All(samples, s => Assert.True(s > 0));
            Assert.Equal(before - (4 << 20) / 512, file.AllocatedBlocks());

            file.ResetForDiscard(4 << 20);                        // allocated again, for the next column
            Assert.Equal(before, file.AllocatedBlocks());
        }
        Assert.False(File.Exists(path));                          // a temporary file goes with the suite
    }

    [Fact]
    public void An_existing_file_is_kept_and_bad_ones_are_refused()
    {
        string path = Path.Combine(_dir, "given.img");
        File.WriteAllBytes(path, new byte[1 << 20]);
        using (var file = BackingFile.OpenExisting(path)) Assert.Equal(1 << 20, file.Size);
        Assert.True(File.Exists(path));

        Assert.Contains("no such file", Assert.Throws<BenchException>(() => BackingFile.OpenExisting(Path.Combine(_dir, "none.img"))).Message);
        File.WriteAllBytes(path, new byte[4097]);
        Assert.Contains("multiple of 4 KiB", Assert.Throws<BenchException>(() => BackingFile.OpenExisting(path)).Message);
        Assert.Contains("at least 1M", Assert.Throws<BenchException>(() => BackingFile.CreateTemporary(_dir, 4096)).Message);
    }
}
