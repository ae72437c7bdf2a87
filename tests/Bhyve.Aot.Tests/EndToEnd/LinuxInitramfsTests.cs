using System.Text;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// Debian's bzImage all the way to a busybox initramfs: N CPUs online, the virtio-blk disk (and the NVMe
/// namespace, once NVMe is built) found, driven in interrupt mode (MSI-X through irqfd), read and written,
/// then an ACPI power-off that ends the run with status 0. It needs hardware-assisted KVM: on kvm_pvm the
/// kernel runs in KVM's instruction emulator and does not get this far, so the test is skipped there with
/// that reason (see DebianKernelBootTests for what is checked on such hosts).
/// </summary>
public sealed class LinuxInitramfsTests(ITestOutputHelper output) : IDisposable
{
    private const int Cpus = 2;
    private const string DiskPattern = "bhyve-aot-disk-pattern";
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-linux-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Init =
        """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        echo "INIT: reached /init"
        echo "INIT: cpus $(grep -c ^processor /proc/cpuinfo)"
        for pass in 1 2 3; do for m in /modules/*.ko; do insmod $m 2>/dev/null; done; done
        for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
        for d in vda nvme0n1; do
          [ -b /dev/$d ] || continue
          echo "INIT: $d sectors $(cat /sys/block/$d/size)"
          echo "INIT: $d reads $(dd if=/dev/$d bs=512 count=1 2>/dev/null | head -c 22)"
          echo "written-by-guest-$d" | dd of=/dev/$d bs=512 seek=1 conv=fsync 2>/dev/null && echo "INIT: $d written"
        done
        grep -E "PCI-MSI" /proc/interrupts | sed 's/^/INIT: irq /'
        echo "INIT: done"
        poweroff -f
        """;

    [HardwareVirtualizationFact]
    public async Task A_busybox_initramfs_sees_the_CPUs_and_disks_uses_them_and_powers_off()
    {
        Repo.RequireKvm();
        var cpio = new CpioWriter().Directory("bin").Directory("proc").Directory("sys").Directory("dev").Directory("modules")
            .File("init", Encoding.ASCII.GetBytes(Init.Replace("\r", "") + "\n"), executable: true)
            .File("bin/busybox", await File.ReadAllBytesAsync(LinuxImage.File("busybox")), executable: true);
        foreach (var ko in Directory.GetFiles(Path.GetDirectoryName(LinuxImage.File("modules/virtio_blk.ko"))!, "*.ko"))
            cpio.File("modules/" + Path.GetFileName(ko), await File.ReadAllBytesAsync(ko));
        string initrd = Path.Combine(_dir, "initrd.cpio");
        await File.WriteAllBytesAsync(initrd, cpio.ToArray());
        string disk = MakeDisk("disk.img"), nvme = MakeDisk("nvme.img");

        var args = new List<string> { "run", "--kernel", LinuxImage.File("vmlinuz"), "--initrd", initrd, "--memory", "512M", "--cpus", $"{Cpus}",
            "--cmdline", "console=ttyS0 panic=-1 loglevel=4", "--disk", $"path={disk}" };
        bool withNvme = await NvmeIsBuilt();
        if (withNvme) args.AddRange(["--nvme", $"path={nvme}"]);
        var run = await TimedConsoleRun.RunAsync(Repo.Binary, args, TimeSpan.FromSeconds(120), _ => false);
        var lines = run.Lines;
        string text = string.Join('\n', lines.Select(l => l.Text));
        var first = lines.FirstOrDefault();
        var init = lines.FirstOrDefault(l => l.Text.Contains("INIT: reached /init"));
        output.WriteLine($"exec to first console line: {first.At.TotalSeconds:F2} s; exec to /init: {init.At.TotalSeconds:F2} s; NVMe {(withNvme ? "tested" : "not built yet: left out")}");
        output.WriteLine(text);

        Assert.True(run.ExitCode == 0, $"status {run.ExitCode?.ToString() ?? "none (stopped at the bound)"}; stderr: {run.Stderr}\n{text}");
        Assert.Contains($"INIT: cpus {Cpus}", text);
        Assert.Contains("INIT: vda sectors 16384", text);
        Assert.Contains($"INIT: vda reads {DiskPattern}", text);
        Assert.Contains("INIT: vda written", text);
        Assert.Contains("INIT: irq", text); // virtio/NVMe queues on MSI-X vectors, i.e. interrupt mode
        Assert.Contains("INIT: done", text);
        Assert.Contains("written-by-guest-vda", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(disk), 512, 64));
        if (withNvme)
        {
            Assert.Contains("INIT: nvme0n1 written", text);
            Assert.Contains("written-by-guest-nvme0n1", Encoding.ASCII.GetString(await File.ReadAllBytesAsync(nvme), 512, 64));
        }
    }

    private string MakeDisk(string name)
    {
        string path = Path.Combine(_dir, name);
        var bytes = new byte[8 << 20];
        Encoding.ASCII.GetBytes(DiskPattern).CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>NVMe comes from another piece of work; until it is merged, bhyve-aot refuses --nvme and this test covers virtio-blk alone.</summary>
    private async Task<bool> NvmeIsBuilt()
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["run", "--kernel", "/nonexistent", "--nvme", $"path={Path.Combine(_dir, "nvme.img")}"]);
        return !r.Stderr.Contains("not built yet");
    }
}
