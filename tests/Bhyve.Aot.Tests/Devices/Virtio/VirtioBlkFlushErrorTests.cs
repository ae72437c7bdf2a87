using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>A device reset (status 0) is where the backend's latched flush error is forgotten; nothing else clears it.</summary>
public class VirtioBlkFlushErrorTests
{
    [Fact]
    public void Reset_clears_the_latched_flush_error_and_keeps_the_count()
    {
        using var scratch = new StorageScratch();
        using var file = BlockFile.Create(scratch.PathOf("disk.img"), 1 << 20);
        var disk = new VirtioBlkDisk(file.Size / 512, 512, false, false, true, false, "");
        var blk = new VirtioBlk(disk, 1, 128, 64, () => BlockEngineFactory.Create(file, BlockEngineOptions.Default), file);
        file.LatchFlushError(-BlockAbi.EIO);
        Assert.Equal(-BlockAbi.EIO, file.Flush());
        blk.Reset();
        Assert.Equal(0, file.FlushError);
        Assert.Equal(1, file.FlushFailures);
        Assert.Equal(0, file.Flush());
    }
}
