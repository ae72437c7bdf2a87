using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bhyve.Aot.Api;

/// <summary>Source-generated JSON for the API's own objects (the configuration sections are the machine file's types).</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ApiFault))]
[JsonSerializable(typeof(InstanceInfo))]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(InstanceAction))]
[JsonSerializable(typeof(VmStateRequest))]
[JsonSerializable(typeof(PartialDrive))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>The same, writing quotes and paths as they are (the bodies go to programs and terminals, never HTML).</summary>
    // Built on first use: static initializers in the generated half of this class have no defined order against ours.
    public static ApiJsonContext Relaxed =>
        s_relaxed ??= new(new JsonSerializerOptions(Default!.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static ApiJsonContext? s_relaxed;
}
