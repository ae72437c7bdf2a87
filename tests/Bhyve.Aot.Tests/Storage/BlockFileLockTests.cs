using Bhyve.Aot.Storage;
using Xunit;

namespace Bhyve.Aot.Tests.Storage;

/// <summary>OFD image locks: exclusive for writers, shared for readers, released on close. OFD locks belong to the open
/// file, so two opens in one process conflict exactly as two VMs do.</summary>
public class BlockFileLockTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"bhyve-aot-lock-{Guid.NewGuid():N}.img");

    public BlockFileLockTests() => File.WriteAllBytes(_path, new byte[4096]);

    public void Dispose() => File.Delete(_path);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "dup")]
    private static extern int Dup(int fd);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    /// <summary>
    /// Another reference to the open file (here a dup; in a VM, the io_uring ring that registered the file and that
    /// the kernel tears down after the process exits) keeps an OFD lock alive past close: Dispose unlocks first, so
    /// the next VM on the image is not refused.
    /// </summary>
    [Fact]
    public void Dispose_releases_the_lock_even_while_another_reference_to_the_open_file_remains()
    {
        var first = BlockFile.Open(_path).Lock();
        int other = Dup(first.Fd);
        Assert.True(other >= 0);
        try
        {
            first.Dispose();
            using var second = BlockFile.Open(_path).Lock();
        }
        finally { Close(other); }
    }

    [Fact]
    public void A_second_writer_is_refused_with_one_line_naming_the_image()
    {
        using var first = BlockFile.Open(_path).Lock();
        var e = Assert.Throws<BlockFileException>(() => BlockFile.Open(_path).Lock());
        Assert.StartsWith($"{_path}: the image is locked", e.Message);
        Assert.Contains("lock=off", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Readers_share_and_a_writer_waits_for_them_all()
    {
        using (var a = BlockFile.Open(_path, readOnly: true).Lock())
        using (var b = BlockFile.Open(_path, readOnly: true).Lock())
        {
            Assert.Throws<BlockFileException>(() => BlockFile.Open(_path).Lock());
        }
        using var writer = BlockFile.Open(_path).Lock();
        Assert.Throws<BlockFileException>(() => BlockFile.Open(_path, readOnly: true).Lock());
    }

    [Fact]
    public void Closing_releases_the_lock_and_an_unlocked_open_is_not_refused()
    {
        BlockFile.Open(_path).Lock().Dispose();
        using var again = BlockFile.Open(_path).Lock();
        using var unlocked = BlockFile.Open(_path); // lock=off: the user knows better
    }
}
