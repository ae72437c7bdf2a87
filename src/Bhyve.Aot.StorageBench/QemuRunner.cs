namespace Bhyve.Aot.StorageBench;

/// <summary>
/// QEMU on the same guest and file: microvm with PCIe, KVM, kvm64 CPU, the disk on io_uring with discard=unmap,
/// cache=none (O_DIRECT) or writeback (page cache) as the suite's cache mode says; virtio-blk-pci (modern only) or nvme.
/// </summary>
public sealed class QemuRunner(string binary, string guestElf, string disk, BenchDevice device) : ITargetRunner
{
    /// <summary>isa-debug-exit: the guest's 0 becomes (0 &lt;&lt; 1) | 1.</summary>
    private const int GuestSuccess = 1;

    public BenchTarget Target { get; } = new(BenchRunner.Qemu, device);
    public string Description => $"qemu -M microvm,pcie=on -device {(device == BenchDevice.Nvme ? "nvme" : "virtio-blk-pci")} (aio=io_uring, storage-bench guest)";

    public TargetRun Run(StorageWorkload workload, RunSettings settings)
    {
        var run = ChildProcess.Run(binary, Arguments(GuestCommandLine.ForWorkload(device, workload, settings), settings),
            TimeSpan.FromMilliseconds(settings.DurationMs) + TimeSpan.FromSeconds(60));
        return new TargetRun(GuestCommandLine.Parse(run, GuestSuccess, "qemu").ToMeasurement(settings.TscKhz), null);
    }

    public VmmStats? Idle(RunSettings settings) => null;

    public DiscardRun Discard(long size, int count, RunSettings settings)
    {
        var run = ChildProcess.Run(binary, Arguments(GuestCommandLine.ForDiscard(device, size, count, settings), settings), TimeSpan.FromMinutes(5));
        return GuestCommandLine.ToDiscardRun(GuestCommandLine.Parse(run, GuestSuccess, "qemu"), count, settings.TscKhz);
    }

    public IReadOnlyList<string> Arguments(string cmdline, RunSettings settings)
    {
        string cache = settings.Cache == CacheMode.Direct ? "none" : "writeback";
        string deviceArg = device == BenchDevice.Nvme ? "nvme,serial=bhyve-bench,drive=d0" : "virtio-blk-pci,drive=d0,disable-legacy=on";
        return
        [
            "-M", "microvm,pcie=on", "-enable-kvm", "-cpu", "kvm64", "-m", "64M", "-nodefaults", "-no-user-config", "-nographic",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-no-reboot",
            "-kernel", guestElf, "-append", cmdline,
            "-drive", $"id=d0,file={disk},format=raw,if=none,discard=unmap,aio=io_uring,cache={cache}",
            "-device", deviceArg,
        ];
    }
}
