using System.Text.Json.Serialization;

namespace Bhyve.Aot.Api;

/// <summary>Firecracker's Error object: every 4xx/5xx body.</summary>
public sealed class ApiFault
{
    [JsonPropertyName("fault_message")] public string FaultMessage { get; set; } = "";
}

/// <summary>Firecracker's InstanceInfo (GET /).</summary>
public sealed class InstanceInfo
{
    [JsonPropertyName("app_name")] public string AppName { get; set; } = "";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    /// <summary>"Not started", "Running" or "Paused".</summary>
    [JsonPropertyName("state")] public string State { get; set; } = "";
    [JsonPropertyName("vmm_version")] public string VmmVersion { get; set; } = "";
}

/// <summary>Firecracker's FirecrackerVersion (GET /version).</summary>
public sealed class VersionInfo
{
    [JsonPropertyName("firecracker_version")] public string FirecrackerVersion { get; set; } = "";
}

/// <summary>Firecracker's InstanceActionInfo (PUT /actions).</summary>
public sealed class InstanceAction
{
    /// <summary>InstanceStart, SendCtrlAltDel or FlushMetrics.</summary>
    [JsonPropertyName("action_type")] public string? ActionType { get; set; }
}

/// <summary>Firecracker's Vm object (PATCH /vm).</summary>
public sealed class VmStateRequest
{
    /// <summary>Paused or Resumed.</summary>
    [JsonPropertyName("state")] public string? State { get; set; }
}

/// <summary>Firecracker's PartialDrive (PATCH /drives/{id}).</summary>
public sealed class PartialDrive
{
    [JsonPropertyName("drive_id")] public string? DriveId { get; set; }
    [JsonPropertyName("path_on_host")] public string? PathOnHost { get; set; }
    [JsonPropertyName("rate_limiter")] public System.Text.Json.JsonElement? RateLimiter { get; set; }
}
