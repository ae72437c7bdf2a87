using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bhyve.Aot.Host;

/// <summary>Source-generated (reflection-free, AOT-safe) JSON for `bhyve-aot check --json`.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(HostReport))]
public sealed partial class HostReportJsonContext : JsonSerializerContext
{
    /// <summary>The same, but apostrophes and non-ASCII are written as themselves: the report goes to a terminal or a
    /// JSON parser, never into HTML, so the default escaping only hurts readability.</summary>
    // Built on first use: static initializers in the generated half of this class have no defined order against ours.
    public static HostReportJsonContext Printable =>
        s_printable ??= new(new JsonSerializerOptions(Default!.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static HostReportJsonContext? s_printable;
}
