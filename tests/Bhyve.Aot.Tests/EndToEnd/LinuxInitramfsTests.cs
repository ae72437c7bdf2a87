using System.Text;
using Bhyve.Aot.Tests.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// One boot of the shared Linux 6.12 guest kernel (../shared/linux) to a busybox /init that lets Linux's own
/// drivers check our machine, one console line per check: 2 CPUs online; on the virtio-blk disk and on the NVMe
/// namespace the size, a read of the pattern this test wrote, a write this test finds in the host file, a
/// discard of 1 MiB (the host file's blocks drop), flushes that complete (the disk says "write back"); MSI-X
/// interrupts taken by each device; an ACPI S5 power-off that ends the run with status 0. One boot carries every
/// check because each costs a minute or more of emulated kernel code here; the failure paths are in
/// <see cref="LinuxFailurePathTests"/> (`make test-linux-long`).
/// </summary>
public sealed class LinuxInitramfsTests(ITestOutputHelper output) : IDisposable
{
    private const int Cpus = 2;
    private const int DiskBytes = 8 << 20;
    private const long DiscardOffset = 1 << 20, DiscardLength = 1 << 20;
    private const string DiskPattern = "bhyve-aot-disk-pattern";
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-linux-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// /proc/diskstats-style /sys/block/D/stat: field 12 counts completed discards, field 16 completed flushes.
    /// The write is buffered with conv=fsync, so the fsync sends a flush (the disk is "write back").
    /// </summary>
    private const string Init =
        """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        echo "INIT: first line"
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        echo "CHECK cpus-online $(cat /sys/devices/system/cpu/online)"
        field() { awk -v f=$2 '{ print $f }' /sys/block/$1/stat; }
        for d in vda nvme0n1; do
          n=0; while [ ! -b /dev/$d ] && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
          [ -b /dev/$d ] || { echo "CHECK $d missing"; continue; }
          echo "CHECK $d size $(cat /sys/block/$d/size)"
          echo "CHECK $d read $(dd if=/dev/$d bs=512 count=1 iflag=direct 2>/dev/null | head -c 22)"
          flushes=$(field $d 16)
          printf "written-by-guest-$d" | dd of=/dev/$d bs=512 seek=1 conv=fsync 2>/dev/null && echo "CHECK $d write ok"
          blkdiscard -o 1048576 -l 1048576 /dev/$d && echo "CHECK $d discard ok"
          echo "CHECK $d discards $(field $d 12)"
          sync
          echo "CHECK $d write-cache $(cat /sys/block/$d/queue/write_cache)"
          echo "CHECK $d flushes $(( $(field $d 16) - flushes ))"
        done
        awk -v ncpu=$(nproc) '/PCI-MSI/ { s = 0; for (i = 2; i <= ncpu + 1; i++) s += $i; d = $NF; sub(/-.*/, "", d); sub(/q[0-9]+$/, "", d); t[d] += s }
          END { for (d in t) print "CHECK irq " d " " t[d] }' /proc/interrupts
        echo "INIT: done"
        poweroff -f
        """;

    [SharedLinuxFact]
    public async Task Linux_drives_our_virtio_blk_NVMe_MSI_X_SMP_and_ACPI_in_one_boot()
    {
        Repo.RequireKvm();
        string initrd = await LinuxGuest.WriteInitramfs(_dir, Init);
        string disk = MakeDisk("disk.img"), nvme = MakeDisk("nvme.img");
        ulong diskBlocks = EngineDriver.AllocatedBlocks(disk), nvmeBlocks = EngineDriver.AllocatedBlocks(nvme);

        var args = LinuxGuest.RunArgs(initrd, Cpus);
        args.AddRange(["--disk", $"path={disk}", "--nvme", $"path={nvme}"]);
        var bound = LinuxGuest.Bound(150);
        var run = await TimedConsoleRun.RunAsync(Repo.Binary, args, bound, _ => false, idle: bound / 2);
        var lines = run.Lines;
        string text = string.Join('\n', lines.Select(l => $"{l.At.TotalSeconds,7:F1} {l.Text}"));
        var runInit = lines.FirstOrDefault(l => l.Text.Contains("Run /init as init process"));
        var first = lines.FirstOrDefault(l => l.Text.Contains("INIT: first line"));
        output.WriteLine($"bound {bound.TotalSeconds:F0} s (load factor {LinuxGuest.LoadFactor:F1}); exec -> \"Run /init\" {runInit.At.TotalSeconds:F1} s, "
            + $"exec -> /init's first line {first.At.TotalSeconds:F1} s, exit after {run.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(text);

        Assert.True(run.ExitCode == 0, $"status {run.ExitCode?.ToString() ?? "none (stopped by the test)"}; stderr: {run.Stderr}\n{text}");
        Assert.Contains("INIT: done", text);
        // Nothing Linux blames on the machine we built: firmware bugs (our CPUID, MSRs, ACPI), kernel warnings.
        Assert.DoesNotContain(lines, l => l.Text.Contains("[Firmware Bug]") || l.Text.Contains("WARNING:") || l.Text.Contains("Call Trace"));
        Assert.Equal("0-1", LinuxGuest.Check(lines, "cpus-online"));
        foreach (var (dev, file, before, irqName) in new[] { ("vda", disk, diskBlocks, "virtio0"), ("nvme0n1", nvme, nvmeBlocks, "nvme0") })
        {
            Assert.Equal($"{DiskBytes / 512}", LinuxGuest.Check(lines, $"{dev} size"));
            Assert.Equal(DiskPattern, LinuxGuest.Check(lines, $"{dev} read"));
            Assert.Equal("ok", LinuxGuest.Check(lines, $"{dev} write"));
            Assert.Equal($"written-by-guest-{dev}", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file), 512, $"written-by-guest-{dev}".Length));
            Assert.Equal("ok", LinuxGuest.Check(lines, $"{dev} discard"));
            Assert.True(int.Parse(LinuxGuest.Check(lines, $"{dev} discards") ?? "0") > 0, $"{dev}: no discard completed");
            ulong after = EngineDriver.AllocatedBlocks(file);
            Assert.True(after <= before - (ulong)(DiscardLength / 512), $"{file}: st_blocks {before} -> {after}, the discarded MiB is still allocated");
            AssertRangeIsZero(file, DiscardOffset, DiscardLength);
            Assert.Equal("write back", LinuxGuest.Check(lines, $"{dev} write-cache"));
            Assert.True(int.Parse(LinuxGuest.Check(lines, $"{dev} flushes") ?? "0") > 0, $"{dev}: no flush completed");
            Assert.True(long.Parse(LinuxGuest.Check(lines, $"irq {irqName}") ?? "0") > 0, $"{irqName}: no MSI-X interrupt counted in /proc/interrupts");
        }
    }

    /// <summary>8 MiB, every block written (so a discard has blocks to drop): the pattern in sector 0, 0xA5 elsewhere.</summary>
    private string MakeDisk(string name)
    {
        string path = Path.Combine(_dir, name);
        var bytes = new byte[DiskBytes];
        bytes.AsSpan().Fill(0xA5);
        Encoding.ASCII.GetBytes(DiskPattern).CopyTo(bytes, 0);
        bytes[DiskPattern.Length] = 0;
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertRangeIsZero(string path, long offset, long length)
    {
        var buffer = new byte[length];
        using var f = File.OpenRead(path);
        f.Position = offset;
        f.ReadExactly(buffer);
        Assert.True(buffer.All(b => b == 0), $"{path}: bytes {offset}..{offset + length} are not zero after the discard");
    }
}
