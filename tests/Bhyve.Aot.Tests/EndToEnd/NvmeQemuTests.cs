using System.Security.Cryptography;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The reference: the same nvme-selftest.elf passes on QEMU microvm's `-device nvme` (1b36:0010), so a failure on
/// ours is ours and not the guest's. QEMU missing is a failure (`make test` installs it).
/// </summary>
public sealed class NvmeQemuTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-nvme-qemu-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(ProcessResult Run, BlkSelftestOutput Output)> Selftest(string cmdline, string drive, string device)
    {
        var r = await Qemu.RunAsync(Repo.Guest("nvme-selftest.elf"), cmdline, "128M", pcie: true,
        [
            "-drive", $"id=n0,{drive},format=raw,if=none,aio=io_uring,cache=none",
            "-device", $"nvme,serial=bhyve-qemu,drive=n0{device}",
        ], TimeSpan.FromSeconds(180));
        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(output.Failures.Count == 0 && output.Passed > 0 && output.Failed == 0, r.ToString());
        return (r, output);
    }

    [Theory]
    [InlineData("shadow_db=1 expect_shadow=1 queues=4 qsize=128", "")]
    [InlineData("shadow_db=0 queues=1 expect_lba_size=4096", ",logical_block_size=4096,physical_block_size=4096")]
    public async Task Selftest_passes_on_QEMU_nvme_and_leaves_the_printed_layout(string cmdline, string device)
    {
        string image = Path.Combine(_dir, "disk.img");
        using (var f = File.Create(image)) f.SetLength(64L << 20);

        // reset=2: QEMU 7.2's nvme device sometimes dies (SIGSEGV) when the controller is reset with I/O in flight,
        // so here the commands complete before CC.EN=0 (reset_idle instead of reset_inflight).
        var (run, output) = await Selftest($"expect_sn=bhyve-qemu reset=2 {cmdline}", $"file={image},discard=unmap", device);

        NvmeSelftestTests.AssertPassed(run, output, NvmeSelftestTests.WriteChecks.Select(c => c == "reset_inflight" ? "reset_idle" : c));
        var bad = output.Verify(image);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public async Task Read_only_drive_passes_the_read_only_checks_on_QEMU()
    {
        string image = Path.Combine(_dir, "ro.img");
        var bytes = new byte[16 << 20];
        for (int o = 0; o < 1 << 20; o++) bytes[o] = BlkSelftestOutput.Pattern((ulong)o, 7);
        File.WriteAllBytes(image, bytes);
        byte[] hash = SHA256.HashData(bytes);

        // QEMU 7.2 has no namespace write protection: the guest must be told (read_only=1), and a refused write
        // comes back as Write Fault (SCT 2 SC 0x80) from the failed host write.
        var (run, output) = await Selftest("read_only=1 ro_expect=7 ro_status=0x280", $"file={image},readonly=on", "");

        NvmeSelftestTests.AssertPassed(run, output, NvmeSelftestTests.ReadOnlyChecks);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(image)));
        Assert.Empty(output.Verify(image));
    }
}
