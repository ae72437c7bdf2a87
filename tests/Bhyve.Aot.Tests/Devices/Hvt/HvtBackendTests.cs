using System.Runtime.InteropServices;
using Bhyve.Aot.Devices.Hvt;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Hvt;

/// <summary>The hvt block backend on a real file (through the synchronous engine) and the tap backend's refusals.</summary>
public sealed unsafe class HvtBackendTests : IDisposable
{
    private readonly StorageScratch _scratch = new();
    private readonly byte* _buffer = (byte*)NativeMemory.AlignedAlloc(8192, 4096);

    public void Dispose()
    {
        NativeMemory.AlignedFree(_buffer);
        _scratch.Dispose();
    }

    private string File(int size)
    {
        string path = _scratch.PathOf("disk.img");
        System.IO.File.WriteAllBytes(path, new byte[size]);
        return path;
    }

    [Fact]
    public void Block_file_reports_its_geometry_and_moves_bytes_both_ways()
    {
        string path = File(16 * 512);
        using var disk = HvtBlockFile.Open("storage", path);
        Assert.Equal(16UL * 512, disk.Capacity);
        Assert.Equal(512, disk.BlockSize);

        var data = new Span<byte>(_buffer, 1024);
        for (int i = 0; i < 1024; i++) data[i] = (byte)(i * 5 + 3);
        Assert.Equal(Solo5Result.Ok, disk.Write(1536, _buffer, 1024));
        Assert.Equal(data.ToArray(), System.IO.File.ReadAllBytes(path).AsSpan(1536, 1024).ToArray());

        data.Clear();
        Assert.Equal(Solo5Result.Ok, disk.Read(1536, _buffer, 1024));
        for (int i = 0; i < 1024; i++) Assert.Equal((byte)(i * 5 + 3), data[i]);
    }

    [Fact]
    public void A_short_read_is_an_I_O_error_for_the_guest()
    {
        string path = File(16 * 512);
        using var disk = HvtBlockFile.Open("storage", path);
        // The file shrinks behind our back: the hypercall range check passed, the read comes back short.
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(512);
        Assert.Equal(Solo5Result.Unspecified, disk.Read(1024, _buffer, 512));
    }

    [Fact]
    public void Block_transfers_allocate_nothing()
    {
        using var disk = HvtBlockFile.Open("storage", File(16 * 512));
        // Warm up the very loop that is measured (both directions), so first-call and tiering work is done.
        Transfer(disk, 2000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Transfer(disk, 5000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private void Transfer(HvtBlockFile disk, int count)
    {
        for (int i = 0; i < count; i++)
        {
            disk.Write((ulong)(i % 8) * 512, _buffer, 512);
            disk.Read((ulong)(i % 8) * 512, _buffer + 4096, 512);
        }
    }

    [Fact]
    public void Missing_backing_file_is_refused() =>
        Assert.Throws<BlockFileException>(() => HvtBlockFile.Open("storage", _scratch.PathOf("missing.img")));

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("a/b")]
    public void Tap_names_Linux_cannot_have_are_refused_before_any_system_call(string name) =>
        Assert.Contains("is not a network interface name", Assert.Throws<IOException>(() => HvtTap.Open(name)).Message);
}
