namespace Bhyve.Aot.StorageBench;

/// <summary>One run of one workload on one target: how many operations in how long, and their latency.</summary>
public sealed record Measurement(long Operations, double Seconds, double Iops, double MiBPerSecond, LatencySummary Latency);
