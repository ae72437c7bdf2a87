using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Bhyve.Aot.Tests.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// blk-selftest.elf against the published binary's virtio-blk: every guest check passes, and the host file then
/// holds exactly the bytes the guest says it wrote (checked here, byte by byte, not by the python tool).
/// </summary>
public sealed class VirtioBlkSelftestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-blk-").FullName;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(ProcessResult Run, BlkSelftestOutput Output)> Selftest(string cmdline, string disk)
    {
        Repo.RequireKvm();
        var r = await ProcessRunner.RunAsync(Repo.Binary,
            ["run", "--kernel", Repo.Guest("blk-selftest.elf"), "--memory", "128M", "--cmdline", cmdline, "--disk", disk], Timeout);
        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());                 // guest_exit(0): (0 << 1) | 1
        Assert.True(output.Failures.Count == 0, string.Join("\n", output.Failures) + "\n" + r);
        Assert.True(output.Passed > 0 && output.Failed == 0, r.ToString());
        return (r, output);
    }

    [Fact]
    public async Task Selftest_passes_and_the_image_matches_the_printed_layout()
    {
        string image = Path.Combine(_dir, "disk.img");
        var (run, output) = await Selftest("discard_zeroes=1", $"path={image},size=64M,create,serial=bhyve-test");

        foreach (string check in new[] { "write_read", "multi_desc", "split_header", "indirect", "inflight", "ring_wrap", "discard", "write_zeroes", "write_zeroes_unmap", "past_end", "unsupported", "final_verify" })
            Assert.True(output.Ok.Contains(check), $"check {check} did not pass:\n{run}");
        Assert.Contains("bhyve-test", run.Stdout); // the GET_ID string is printed as info
        Assert.Equal(64L << 20, new FileInfo(image).Length);
        Assert.NotEmpty(output.Layout);
        Assert.NotEmpty(output.Zero);
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public async Task Discards_and_write_zeroes_punch_holes_in_a_fully_allocated_image()
    {
        string image = Path.Combine(_dir, "full.img");
        // Fully allocated, with non-zero data everywhere, so any zero range must come from the device.
        var block = new byte[1 << 20];
        Array.Fill(block, (byte)0x5C);
        using (var f = new FileStream(image, FileMode.CreateNew))
        {
            for (int i = 0; i < 64; i++) f.Write(block);
            f.Flush(flushToDisk: true);
        }
        ulong before = EngineDriver.AllocatedBlocks(image);
        Assert.True(before >= (64UL << 20) / 512, $"image not fully allocated: {before} blocks");

        var (_, output) = await Selftest("discard_zeroes=1", $"path={image}");

        ulong after = EngineDriver.AllocatedBlocks(image);
        Assert.True(after < before, $"st_blocks {before} -> {after}");
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));

        // Whole 4 KiB blocks in a discarded or unmapped range are holes: SEEK_DATA from their start skips past them.
        // WRITE_ZEROES without unmap (blk-selftest's first range at 10 MiB, below 10 MiB + 256 KiB) zeroes in place.
        int holes = 0;
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();
        foreach (var (offset, length) in output.Zero)
        {
            ulong start = (offset + 4095) & ~4095UL, end = (offset + length) & ~4095UL;
            if (end <= start || (offset >= 10UL << 20 && offset < (10UL << 20) + (256 << 10))) continue;
            long data = SeekData(fd, (long)start);
            Assert.True(data < 0 || data >= (long)end, $"zero range {offset}+{length}: data at {data} inside [{start}, {end})");
            holes++;
        }
        Assert.True(holes >= 2, $"only {holes} zero ranges cover whole 4 KiB blocks:\n{output}");
    }

    [Fact]
    public async Task Read_only_disk_passes_the_read_only_checks_and_is_not_modified()
    {
        string image = Path.Combine(_dir, "ro.img");
        // Pattern 7 over the first MiB, so ro_expect can check what the guest reads.
        var bytes = new byte[16 << 20];
        for (int o = 0; o < 1 << 20; o++) bytes[o] = BlkSelftestOutput.Pattern((ulong)o, 7);
        File.WriteAllBytes(image, bytes);
        byte[] hash = SHA256.HashData(bytes);

        var (run, output) = await Selftest("ro_expect=7", $"path={image},readonly");

        foreach (string check in new[] { "ro_read", "ro_write", "ro_expect", "past_end", "unsupported" })
            Assert.True(output.Ok.Contains(check), $"check {check} did not pass:\n{run}");
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(image)));
        Assert.Empty(output.Verify(image));
    }

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long LSeek(int fd, long offset, int whence);

    /// <summary>lseek(SEEK_DATA): the next data offset at or after `offset`, or -1 (ENXIO) when only a hole follows.</summary>
    private static long SeekData(int fd, long offset) => LSeek(fd, offset, 3);
}
