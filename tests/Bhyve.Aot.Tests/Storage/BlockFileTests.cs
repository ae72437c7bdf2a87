using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

public class BlockFileTests
{
    [Fact]
    public void CreateMakesASparseFileOfTheSize()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 64 << 20);
        Assert.Equal(64UL << 20, file.Size);
        Assert.False(file.IsBlockDevice);
        Assert.False(file.ReadOnly);
        Assert.Equal(512u, file.LogicalBlockSize);
        Assert.True(EngineDriver.AllocatedBlocks(file.Path) < 64);
        Assert.Equal(64L << 20, new FileInfo(file.Path).Length); // the capability probe past EOF kept the size
    }

    [Fact]
    public void CreateReopensAFileOfTheSameSizeAndRefusesAnother()
    {
        using var scratch = new StorageScratch();
        string path = scratch.PathOf("disk.img");
        BlockFile.Create(path, 1 << 20).Dispose();
        using (var again = BlockFile.Create(path, 1 << 20)) Assert.Equal(1UL << 20, again.Size);
        var e = Assert.Throws<BlockFileException>(() => BlockFile.Create(path, 2 << 20));
        Assert.Contains("exists with size 1048576", e.Message);
    }

    [Fact]
    public void RefusesMissingEmptyAndRaggedFiles()
    {
        using var scratch = new StorageScratch();
        var missing = Assert.Throws<BlockFileException>(() => BlockFile.Open(scratch.PathOf("nope.img")));
        Assert.Contains("no such file", missing.Message);

        File.WriteAllBytes(scratch.PathOf("empty.img"), []);
        Assert.Contains("size is 0", Assert.Throws<BlockFileException>(() => BlockFile.Open(scratch.PathOf("empty.img"))).Message);

        File.WriteAllBytes(scratch.PathOf("ragged.img"), new byte[1000]);
        Assert.Contains("not a multiple of 512", Assert.Throws<BlockFileException>(() => BlockFile.Open(scratch.PathOf("ragged.img"))).Message);

        Assert.Contains("size is 0", Assert.Throws<BlockFileException>(() => BlockFile.Create(scratch.PathOf("zero.img"), 0)).Message);
        Assert.Contains("is a directory", Assert.Throws<BlockFileException>(() => BlockFile.Open(scratch.Directory)).Message);
    }

    [Fact]
    public void PermissionDeniedIsOneLine()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName == "root") return; // root opens anything; nothing to check
        using var scratch = new StorageScratch();
        string path = scratch.PathOf("locked.img");
        File.WriteAllBytes(path, new byte[4096]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        var e = Assert.Throws<BlockFileException>(() => BlockFile.Open(path));
        Assert.Contains("permission denied", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ReadOnlyFilesClaimNoDiscard()
    {
        using var scratch = new StorageScratch();
        string path = scratch.PathOf("disk.img");
        BlockFile.Create(path, 1 << 20).Dispose();
        using var rw = BlockFile.Open(path);
        Assert.True(rw.CanDiscard);
        Assert.True(rw.CanWriteZeroes);
        using var ro = BlockFile.Open(path, readOnly: true);
        Assert.True(ro.ReadOnly);
        Assert.False(ro.CanDiscard);
        Assert.False(ro.CanWriteZeroes);
    }

    [Fact]
    public void DirectReportsTheKernelsAlignment()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20, direct: true);
        Assert.True(file.Direct);
        Assert.True(file.OffsetAlignment is >= 512 and <= 4096);
        Assert.True(file.MemoryAlignment is >= 1 and <= 4096);
        Assert.Equal(0u, file.OffsetAlignment & (file.OffsetAlignment - 1));
    }
}
