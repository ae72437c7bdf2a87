namespace Bhyve.Aot.StorageBench;

/// <summary>What `bhyve-aot bench storage` was asked to do (parsed by the CLI, validated by the suite).</summary>
/// <param name="Disk">an existing file, or a size ("2G") for a temporary file in ScratchDirectory.</param>
/// <param name="Devices">which emulated devices bhyve-aot (and QEMU) use.</param>
/// <param name="BhyveBinary">the bhyve-aot executable to spawn for the VM runs (the CLI passes itself).</param>
/// <param name="GuestElf">storage-bench.elf to boot, or null for the one embedded in this assembly.</param>
/// <param name="OutputDirectory">results.json, results.md and summary.txt go there.</param>
public sealed record StorageBenchOptions(
    string Disk,
    BenchDevice[] Devices,
    bool VsQemu,
    int DurationMs,
    int Rounds,
    bool Quick,
    CacheMode Cache,
    string BhyveBinary,
    string? GuestElf,
    string OutputDirectory,
    string ScratchDirectory = "/var/tmp")
{
    /// <summary>Discard ranges per size: enough samples for a p99 where the disk allows, fewer for the big ranges.</summary>
    public int DiscardCount(long rangeBytes) => Quick
        ? rangeBytes <= 4096 ? 32 : 8
        : rangeBytes switch { <= 4096 => 256, <= 1 << 20 => 64, <= 64L << 20 => 8, _ => 2 };

    /// <summary>The discard sizes this run covers: quick runs only the small ones.</summary>
    public IReadOnlyList<long> DiscardSizes => Quick ? [.. StorageWorkload.DiscardSizes.Where(s => s <= 1 << 20)] : StorageWorkload.DiscardSizes;
}
