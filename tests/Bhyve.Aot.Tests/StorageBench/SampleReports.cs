using Bhyve.Aot.StorageBench;

namespace Bhyve.Aot.Tests.StorageBench;

/// <summary>Small hand-made reports for the verdict, table and JSON tests.</summary>
internal static class SampleReports
{
    public static Measurement M(double iops, double p99 = 100) => new((long)iops, 1, iops, iops * 4096 / (1 << 20), new LatencySummary(p99 / 2, p99 * 0.9, p99, p99 * 1.5));

    public static TargetResult R(string target, double? iops, double? toHost = null, double? toQemu = null, long? gc = null, string? error = null) =>
        new(target, iops is { } i ? M(i) : null, iops is { } j ? [M(j)] : [], toHost, toQemu, iops is null ? null : 0.01, iops is null ? null : 0.5, gc, null, error);

    public static StorageBenchReport Make(double bhyveQd32, double qemuQd32, double hostQd32, double bhyveDiscardP99, double qemuDiscardP99, double hostDiscardP99, long gc = 0)
    {
        var env = new BenchEnvironment("Test CPU", 2, "6.1.0", "kvm_pvm", "pvm", 2445404, "/var/tmp/x.img", 64 << 20, "ext4 on /dev/vda (/)",
            "1.0", ".NET 10", "QEMU emulator version 7.2", "fio-3.33", "io_uring");
        TargetInfo[] targets =
        [
            new("bhyve-aot virtio-blk", BenchRunner.BhyveAot, BenchDevice.VirtioBlk, true, null, "bhyve"),
            new("qemu virtio-blk", BenchRunner.Qemu, BenchDevice.VirtioBlk, true, null, "qemu"),
            new("bhyve-aot nvme", BenchRunner.BhyveAot, BenchDevice.Nvme, false, "--nvme is not supported yet", "bhyve"),
            new("host", BenchRunner.Host, BenchDevice.None, true, null, "fio-3.33 (ioengine=io_uring)"),
        ];
        WorkloadResult[] workloads =
        [
            new("4k-randread-qd1", WorkloadKind.RandRead, 4096, 1, 100,
                [R("bhyve-aot virtio-blk", 1000, 0.5, 1.25, gc), R("qemu virtio-blk", 800, 0.4), R("bhyve-aot nvme", null, error: "not available: --nvme is not supported yet"), R("host", 2000)]),
            new("4k-randread-qd32", WorkloadKind.RandRead, 4096, 32, 100,
                [R("bhyve-aot virtio-blk", bhyveQd32, bhyveQd32 / hostQd32, bhyveQd32 / qemuQd32, gc), R("qemu virtio-blk", qemuQd32), R("bhyve-aot nvme", null, error: "not available: --nvme is not supported yet"), R("host", hostQd32)]),
        ];
        DiscardResult[] discard =
        [
            new(1 << 20, 8,
            [
                new("bhyve-aot virtio-blk", bhyveDiscardP99 / 2, bhyveDiscardP99, bhyveDiscardP99, 8 << 20, 0, 8 << 20, 8 << 20, bhyveDiscardP99 / hostDiscardP99, bhyveDiscardP99 / qemuDiscardP99, null),
                new("qemu virtio-blk", qemuDiscardP99 / 2, qemuDiscardP99, qemuDiscardP99, 8 << 20, 0, 8 << 20, 8 << 20, qemuDiscardP99 / hostDiscardP99, null, null),
                new("bhyve-aot nvme", null, null, null, null, null, null, 8 << 20, null, null, "not available: --nvme is not supported yet"),
                new("host", hostDiscardP99 / 2, hostDiscardP99, hostDiscardP99, 8 << 20, 0, 8 << 20, 8 << 20, null, null, null),
            ]),
        ];
        var report = new StorageBenchReport("2026-11-26T05:00:00Z", 12.5, env, new SuiteSettings(CacheMode.Direct, 200, 1, true, ["virtio-blk", "nvme"], true),
            targets, workloads, discard, [], []);
        return report with { Verdicts = [.. StorageBenchVerdicts.Evaluate(report)], Notes = [.. StorageBenchVerdicts.Notes(report)] };
    }
}
