using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Bhyve.Aot.Tests.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// nvme-selftest.elf against the published binary's NVMe controller (`--nvme`): every guest check passes, and the
/// host file then holds exactly the bytes the guest says it wrote (checked here, byte by byte).
/// </summary>
public sealed class NvmeSelftestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-nvme-").FullName;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    /// <summary>The checks a writable namespace must pass (nvme-selftest's names, native/guest/README.md).</summary>
    internal static readonly string[] WriteChecks =
    [
        "init", "config", "identify", "write_read", "prp_chain", "fua", "inflight", "queue_wrap", "qd1_latency", "flush",
        "dsm_deallocate", "dsm_multi_range", "write_zeroes", "write_zeroes_deac", "lba_range", "invalid_opcode",
        "invalid_ns", "invalid_field", "queues_again", "queue_admin", "prp_offset", "reset_inflight", "final_verify", "shutdown",
    ];

    internal static readonly string[] ReadOnlyChecks =
        ["init", "identify", "ro_read", "ro_write", "ro_write_zeroes", "ro_dsm", "ro_expect", "lba_range", "invalid_opcode", "invalid_ns", "flush", "final_verify", "shutdown"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(ProcessResult Run, BlkSelftestOutput Output)> Selftest(string cmdline, string nvme)
    {
        Repo.RequireKvm();
        var r = await ProcessRunner.RunAsync(Repo.Binary,
            ["run", "--kernel", Repo.Guest("nvme-selftest.elf"), "--memory", "128M", "--cmdline", cmdline, "--nvme", nvme], Timeout);
        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());                 // guest_exit(0): (0 << 1) | 1
        Assert.True(output.Failures.Count == 0, string.Join("\n", output.Failures) + "\n" + r);
        Assert.True(output.Passed > 0 && output.Failed == 0, r.ToString());
        return (r, output);
    }

    internal static void AssertPassed(ProcessResult run, BlkSelftestOutput output, IEnumerable<string> checks)
    {
        foreach (string check in checks)
            Assert.True(output.Ok.Contains(check), $"check {check} did not pass:\n{run}");
    }

    [Fact]
    public async Task Selftest_passes_and_the_image_matches_the_printed_layout()
    {
        string image = Path.Combine(_dir, "disk.img");
        var (run, output) = await Selftest("expect_sn=bhyve-nvme", $"path={image},size=64M,create,serial=bhyve-nvme");

        AssertPassed(run, output, WriteChecks);
        Assert.Contains("sn \"bhyve-nvme\"", run.Stdout);
        Assert.Equal(64L << 20, new FileInfo(image).Length);
        Assert.NotEmpty(output.Layout);
        Assert.NotEmpty(output.Zero);
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Theory]
    [InlineData(true, 4, 128)]
    [InlineData(false, 1, 32)]
    public async Task Selftest_passes_with_and_without_shadow_doorbells(bool shadow, int queues, int queueSize)
    {
        string image = Path.Combine(_dir, "shadow.img");
        string cmdline = shadow ? $"shadow_db=1 expect_shadow=1 queues={queues} qsize={queueSize}" : $"shadow_db=0 queues={queues} qsize={queueSize}";
        var (run, output) = await Selftest(cmdline, $"path={image},size=64M,create,queues={queues},queue-size={queueSize}");

        AssertPassed(run, output, WriteChecks);
        Assert.True(output.Ok.Contains("shadow_db") == shadow, run.ToString());
        Assert.Contains($"{queues} I/O queue pair(s) of {queueSize} entries", run.Stdout);
        Assert.Contains(shadow ? "shadow doorbells on" : "shadow doorbells off", run.Stdout);
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public async Task Sector_size_4096_namespace_passes_and_matches_the_layout()
    {
        string image = Path.Combine(_dir, "4k.img");
        var (run, output) = await Selftest("expect_lba_size=4096", $"path={image},size=64M,create,sector-size=4096");

        AssertPassed(run, output, WriteChecks);
        Assert.Contains("lba size 4096", run.Stdout);
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public async Task Deallocate_punches_holes_in_a_fully_allocated_image()
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

        var (run, output) = await Selftest("", $"path={image},dsm=enable");

        Assert.True(output.Ok.Contains("dsm_deallocate") && output.Ok.Contains("dsm_multi_range"), run.ToString());
        Assert.Contains("deallocated blocks must read zero", run.Stdout);   // DLFEAT promises zeroes
        ulong after = EngineDriver.AllocatedBlocks(image);
        Assert.True(after < before, $"st_blocks {before} -> {after}");
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));

        // The deallocated ranges (nvme-selftest's DSM area, 8..9 MiB) are holes: SEEK_DATA from their start skips them.
        int holes = 0;
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();
        foreach (var (offset, length) in output.Zero)
        {
            if (offset < 8UL << 20 || offset >= 9UL << 20) continue;
            ulong start = (offset + 4095) & ~4095UL, end = (offset + length) & ~4095UL;
            if (end <= start) continue;
            long data = SeekData(fd, (long)start);
            Assert.True(data < 0 || data >= (long)end, $"deallocated range {offset}+{length}: data at {data} inside [{start}, {end})");
            holes++;
        }
        Assert.True(holes >= 3, $"only {holes} deallocated ranges cover whole 4 KiB blocks:\n{output}");
    }

    [Fact]
    public async Task Dsm_disable_leaves_deallocate_out_and_the_command_is_refused()
    {
        string image = Path.Combine(_dir, "nodsm.img");
        var (run, output) = await Selftest("", $"path={image},size=64M,create,dsm=disable");

        AssertPassed(run, output, WriteChecks.Where(c => !c.StartsWith("dsm_", StringComparison.Ordinal)).Append("dsm_unsupported"));
        Assert.Contains("skip dsm_deallocate: ONCS.DSM not set", run.Stdout);
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public async Task Read_only_namespace_refuses_writes_and_is_not_modified()
    {
        string image = Path.Combine(_dir, "ro.img");
        // Pattern 7 over the first MiB, so ro_expect can check what the guest reads.
        var bytes = new byte[16 << 20];
        for (int o = 0; o < 1 << 20; o++) bytes[o] = BlkSelftestOutput.Pattern((ulong)o, 7);
        File.WriteAllBytes(image, bytes);
        byte[] hash = SHA256.HashData(bytes);

        // No read_only=1: the namespace must say so itself (NSATTR write protected), and then writes end with
        // "Namespace is Write Protected" (the guest's default expectation in that case).
        var (run, output) = await Selftest("ro_expect=7", $"path={image},readonly");

        AssertPassed(run, output, ReadOnlyChecks);
        Assert.Contains("nsattr 0x01", run.Stdout);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(image)));
        Assert.Empty(output.Verify(image));
    }

    [Fact]
    public async Task Second_controller_passes_and_the_first_image_is_untouched()
    {
        Repo.RequireKvm();
        string first = Path.Combine(_dir, "first.img"), second = Path.Combine(_dir, "second.img");
        var r = await ProcessRunner.RunAsync(Repo.Binary,
            ["run", "--kernel", Repo.Guest("nvme-selftest.elf"), "--memory", "128M", "--cmdline", "nvme_index=1 expect_sn=second",
             "--nvme", $"path={first},size=32M,create,serial=first", "--nvme", $"path={second},size=32M,create,serial=second"], Timeout);
        var output = new BlkSelftestOutput(r.Stdout);

        Assert.True(r.ExitCode == 1 && output.Failed == 0 && output.Failures.Count == 0, r.ToString());
        AssertPassed(r, output, WriteChecks);
        Assert.Equal(2, r.Stdout.Split('\n').Count(l => l.StartsWith("info: pci ", StringComparison.Ordinal) && l.EndsWith("class 010802", StringComparison.Ordinal)));
        Assert.Empty(output.Verify(second));
        Assert.True(File.ReadAllBytes(first).All(b => b == 0), "the first controller's image was written");
    }

    [Fact]
    public async Task A_wrong_expected_status_fails_the_selftest()
    {
        // The statuses are compared exactly: expecting SCT 1 SC 0x82 where the device answers SCT 0 SC 0x20 fails.
        Repo.RequireKvm();
        string image = Path.Combine(_dir, "ro2.img");
        File.WriteAllBytes(image, new byte[16 << 20]);
        var r = await ProcessRunner.RunAsync(Repo.Binary,
            ["run", "--kernel", Repo.Guest("nvme-selftest.elf"), "--memory", "128M", "--cmdline", "ro_status=0x182", "--nvme", $"path={image},readonly"], Timeout);
        var output = new BlkSelftestOutput(r.Stdout);

        Assert.True(r.ExitCode == 3, r.ToString());                 // guest_exit(1): (1 << 1) | 1
        Assert.Contains(output.Failures, f => f.StartsWith("FAIL ro_write: write: got SCT 0 SC 0x20", StringComparison.Ordinal));
        Assert.True(output.Failed > 0, r.ToString());
    }

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long LSeek(int fd, long offset, int whence);

    /// <summary>lseek(SEEK_DATA): the next data offset at or after `offset`, or -1 (ENXIO) when only a hole follows.</summary>
    private static long SeekData(int fd, long offset) => LSeek(fd, offset, 3);
}
