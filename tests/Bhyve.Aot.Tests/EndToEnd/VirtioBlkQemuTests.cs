using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The reference: the same blk-selftest.elf passes on QEMU microvm's virtio-blk-pci, so a failure on ours is
/// ours and not the guest's. QEMU missing is a failure (`make test` installs it).
/// </summary>
public sealed class VirtioBlkQemuTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-blk-qemu-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Selftest_passes_on_QEMU_microvm_and_leaves_the_printed_layout()
    {
        string image = Path.Combine(_dir, "disk.img");
        using (var f = File.Create(image)) f.SetLength(64L << 20);

        var r = await Qemu.RunAsync(Repo.Guest("blk-selftest.elf"), "discard_zeroes=1", "128M", pcie: true,
        [
            "-drive", $"id=d0,file={image},format=raw,if=none,discard=unmap,aio=io_uring,cache=none",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on,serial=bhyve-test",
        ], TimeSpan.FromSeconds(180));

        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(output.Failures.Count == 0 && output.Passed > 0 && output.Failed == 0, r.ToString());
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }
}
