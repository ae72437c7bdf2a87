using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bhyve.Aot.Config;

/// <summary>
/// Source-generated (reflection-free, AOT-safe) JSON for the machine file. Unknown fields are errors, so a typo is
/// reported instead of silently ignored; comments and trailing commas are allowed because people write these files.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(MachineFile))]
[JsonSerializable(typeof(BootSourceSection))]
[JsonSerializable(typeof(MachineConfigSection))]
[JsonSerializable(typeof(DriveEntry))]
[JsonSerializable(typeof(NvmeEntry))]
[JsonSerializable(typeof(LoggerSection))]
[JsonSerializable(typeof(MetricsSection))]
public sealed partial class MachineFileJsonContext : JsonSerializerContext
{
    /// <summary>The same, writing paths and serials as they are: the output goes to a terminal or a file, never HTML.</summary>
    // Built on first use: static initializers in the generated half of this class have no defined order against ours.
    public static MachineFileJsonContext Printable =>
        s_printable ??= new(new JsonSerializerOptions(Default!.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static MachineFileJsonContext? s_printable;
}
