using System.Text.Json.Serialization;

namespace Bhyve.Aot.StorageBench;

/// <summary>Source-generated (reflection-free, AOT-safe) JSON for results.json.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(StorageBenchReport))]
public sealed partial class StorageBenchJsonContext : JsonSerializerContext;
