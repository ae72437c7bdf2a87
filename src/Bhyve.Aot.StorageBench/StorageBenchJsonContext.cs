using System.Text.Json.Serialization;

namespace Bhyve.Aot.StorageBench;

/// <summary>Source-generated (reflection-free, AOT-safe) JSON for results.json: snake_case, as the machine file, `check --json` and Firecracker.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(StorageBenchReport))]
public sealed partial class StorageBenchJsonContext : JsonSerializerContext;
