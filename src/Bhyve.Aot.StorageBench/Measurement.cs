namespace Bhyve.Aot.StorageBench;

/// <summary>One run of one workload on one target: how many operations in how long, and their latency.</summary>
public sealed record Measurement(long Operations, double Seconds, double Iops, [property: System.Text.Json.Serialization.JsonPropertyName("mib_per_second")] double MiBPerSecond, LatencySummary Latency);
