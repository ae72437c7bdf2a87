using System.Text;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// Failure paths that Linux's own drivers drive, in one boot of the shared kernel (`make test-linux-long`):
/// a read-only virtio-blk disk refuses a write from inside Linux and the host file stays as it was; a disk file
/// truncated under the running guest gives the guest I/O errors while the VMM keeps running; the virtio-blk and
/// NVMe drivers unbound through sysfs while a reader has I/O in flight (the driver resets the device), then bound
/// again, find the disk and read it; the run still ends with the ACPI power-off, status 0.
/// </summary>
public sealed class LinuxFailurePathTests(ITestOutputHelper output) : IDisposable
{
    private const int DiskBytes = 8 << 20;
    private const string DiskPattern = "bhyve-aot-disk-pattern";
    private const string TruncateNow = "INIT: truncate vdc now";
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-linux-fail-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Init =
        """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        echo "INIT: first line"
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        for d in vda vdb vdc nvme0n1; do n=0; while [ ! -b /dev/$d ] && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done; done
        pattern() { dd if=/dev/$1 bs=512 count=1 iflag=direct 2>/dev/null | head -c 22; }

        echo "CHECK vdb ro $(cat /sys/block/vdb/ro)"
        if printf "guest-was-here" | dd of=/dev/vdb bs=512 seek=1 conv=fsync 2>/tmp/err; then echo "CHECK vdb write accepted"
        else echo "CHECK vdb write refused: $(head -1 /tmp/err)"; fi

        echo "CHECK vdc read-before $(pattern vdc)"
        echo "INIT: truncate vdc now"
        result=no-error
        for i in $(seq 1 300); do
          dd if=/dev/vdc of=/dev/null bs=4096 skip=1024 count=1 iflag=direct 2>/dev/null || { result=io-error; break; }
          sleep 1
        done
        echo "CHECK vdc read-after-truncate $result"
        echo "CHECK vdc kernel-io-errors $(dmesg | grep -c 'I/O error, dev vdc')"

        rebind() { # $1 disk, $2 driver: unbind while a reader has I/O in flight, bind again, read the disk
          bdf=$(basename $(readlink -f /sys/block/$1/device/..))
          [ "$2" = nvme ] && bdf=$(basename $(readlink -f /sys/block/$1/device/device))
          ( while dd if=/dev/$1 of=/dev/null bs=64k count=128 iflag=direct 2>/dev/null; do :; done ) &
          reader=$!
          sleep 2
          echo $bdf > /sys/bus/pci/drivers/$2/unbind && echo "CHECK $1 unbound $bdf"
          wait $reader
          [ -b /dev/$1 ] && echo "CHECK $1 still-present" || echo "CHECK $1 gone"
          echo $bdf > /sys/bus/pci/drivers/$2/bind
          n=0; while [ ! -b /dev/$1 ] && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
          echo "CHECK $1 rebound-read $(pattern $1)"
          printf "after-rebind-$1" | dd of=/dev/$1 bs=512 seek=2 conv=fsync 2>/dev/null && echo "CHECK $1 rebound-write ok"
        }
        rebind vda virtio-pci
        rebind nvme0n1 nvme
        echo "INIT: done"
        poweroff -f
        """;

    [LongLinuxFact]
    public async Task Read_only_refusal_truncation_under_the_guest_and_driver_rebinds_with_I_O_in_flight()
    {
        Repo.RequireKvm();
        string initrd = await LinuxGuest.WriteInitramfs(_dir, Init);
        string vda = MakeDisk("vda.img"), vdb = MakeDisk("vdb.img"), vdc = MakeDisk("vdc.img"), nvme = MakeDisk("nvme.img");
        byte[] readOnlyBefore = await File.ReadAllBytesAsync(vdb);

        var args = LinuxGuest.RunArgs(initrd, 2);
        args.AddRange(["--disk", $"path={vda}", "--disk", $"path={vdb},readonly", "--disk", $"path={vdc}", "--nvme", $"path={nvme}"]);
        bool truncated = false;
        var bound = LinuxGuest.Bound(240);
        var run = await TimedConsoleRun.RunAsync(Repo.Binary, args, bound, lines =>
        {
            if (!truncated && lines[^1].Text.Contains(TruncateNow))
            {
                using (var f = new FileStream(vdc, FileMode.Open, FileAccess.Write)) f.SetLength(0);
                truncated = true;
            }
            return false;
        }, idle: bound / 2);
        var lines = run.Lines;
        string text = string.Join('\n', lines.Select(l => $"{l.At.TotalSeconds,7:F1} {l.Text}"));
        output.WriteLine($"bound {bound.TotalSeconds:F0} s, ran {run.Elapsed.TotalSeconds:F1} s, status {run.ExitCode?.ToString() ?? "none"}; stderr: {run.Stderr}");
        output.WriteLine(text);

        Assert.True(run.ExitCode == 0, $"status {run.ExitCode?.ToString() ?? "none (stopped by the test)"}; stderr: {run.Stderr}\n{text}");
        Assert.Contains("INIT: done", text);

        Assert.Equal("1", LinuxGuest.Check(lines, "vdb ro"));
        Assert.StartsWith("refused", LinuxGuest.Check(lines, "vdb write"));
        Assert.Equal(readOnlyBefore, await File.ReadAllBytesAsync(vdb));

        Assert.True(truncated, "the guest never asked for the truncation");
        Assert.Equal(DiskPattern, LinuxGuest.Check(lines, "vdc read-before"));
        Assert.Equal("io-error", LinuxGuest.Check(lines, "vdc read-after-truncate"));
        Assert.True(int.Parse(LinuxGuest.Check(lines, "vdc kernel-io-errors") ?? "0") > 0, "Linux logged no I/O error for vdc");

        foreach (var (dev, file) in new[] { ("vda", vda), ("nvme0n1", nvme) })
        {
            Assert.NotNull(LinuxGuest.Check(lines, $"{dev} unbound"));
            Assert.Equal(DiskPattern, LinuxGuest.Check(lines, $"{dev} rebound-read"));
            Assert.Equal("ok", LinuxGuest.Check(lines, $"{dev} rebound-write"));
            Assert.Equal($"after-rebind-{dev}", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file), 1024, $"after-rebind-{dev}".Length));
        }
    }

    private string MakeDisk(string name)
    {
        string path = Path.Combine(_dir, name);
        var bytes = new byte[DiskBytes];
        Encoding.ASCII.GetBytes(DiskPattern).CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
