using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

public class BlockEngineFactoryTests
{
    [Fact]
    public void PicksIoUringOnThisHost()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        using var engine = BlockEngineFactory.Create(file, BlockEngineOptions.Default, BlockEngineKind.Auto, out string? reason);
        Assert.IsType<IoUringBlockEngine>(engine);
        Assert.Null(reason);
        Assert.Equal("io_uring", engine.Name);
        Assert.Equal(128, engine.Capacity);
    }

    [Fact]
    public void SynchronousWhenAsked()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        using var engine = BlockEngineFactory.Create(file, BlockEngineOptions.Default, BlockEngineKind.Synchronous, out _);
        Assert.IsType<SyncBlockEngine>(engine);
        Assert.Equal("synchronous fallback", engine.Name);
    }
}
