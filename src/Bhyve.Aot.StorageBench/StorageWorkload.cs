using System.Text.Json.Serialization;

namespace Bhyve.Aot.StorageBench;

/// <summary>What one workload does to the disk; the names are the storage-bench guest's `wl=` values.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkloadKind>))]
public enum WorkloadKind
{
    [JsonStringEnumMemberName("randread")] RandRead,
    [JsonStringEnumMemberName("randwrite")] RandWrite,
    [JsonStringEnumMemberName("seqread")] SeqRead,
    [JsonStringEnumMemberName("seqwrite")] SeqWrite,
    /// <summary>Random 4K, ReadPercent reads and the rest writes.</summary>
    [JsonStringEnumMemberName("mixed")] Mixed,
    /// <summary>One write then one flush, back to back, at QD1.</summary>
    [JsonStringEnumMemberName("flushwrite")] FlushWrite,
}

/// <summary>One throughput workload: kind, request size, requests in flight.</summary>
/// <param name="Name">short stable id, e.g. "4k-randread-qd32" (file names, JSON keys).</param>
public sealed record StorageWorkload(string Name, WorkloadKind Kind, int BlockSize, int QueueDepth, int ReadPercent = 100)
{
    /// <summary>The guest's name for the kind (wl=...).</summary>
    public string GuestName => KindName(Kind);

    public static string KindName(WorkloadKind kind) => kind switch
    {
        WorkloadKind.RandRead => "randread",
        WorkloadKind.RandWrite => "randwrite",
        WorkloadKind.SeqRead => "seqread",
        WorkloadKind.SeqWrite => "seqwrite",
        WorkloadKind.Mixed => "mixed",
        WorkloadKind.FlushWrite => "flushwrite",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The set: 4K random read and write at QD1 and QD32, 128K sequential at QD8, 70/30 mixed 4K, flush-heavy writes.</summary>
    public static IReadOnlyList<StorageWorkload> Standard { get; } =
    [
        new("4k-randread-qd1", WorkloadKind.RandRead, 4096, 1),
        new("4k-randread-qd32", WorkloadKind.RandRead, 4096, 32),
        new("4k-randwrite-qd1", WorkloadKind.RandWrite, 4096, 1),
        new("4k-randwrite-qd32", WorkloadKind.RandWrite, 4096, 32),
        new("128k-seqread-qd8", WorkloadKind.SeqRead, 128 * 1024, 8),
        new("128k-seqwrite-qd8", WorkloadKind.SeqWrite, 128 * 1024, 8),
        new("4k-mixed70-qd32", WorkloadKind.Mixed, 4096, 32, 70),
        new("4k-flushwrite-qd1", WorkloadKind.FlushWrite, 4096, 1),
    ];

    /// <summary>The discard series' range sizes: 4 KiB, 1 MiB, 64 MiB, 1 GiB.</summary>
    public static IReadOnlyList<long> DiscardSizes { get; } = [4096, 1L << 20, 64L << 20, 1L << 30];
}
