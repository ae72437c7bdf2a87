using System.CommandLine;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Bhyve.Aot.Host;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot check`: can this host run VMs, and if not, why not.</summary>
public static class CheckCommand
{
    /// <summary>Names the JSON format `check --json` writes; the number changes when a field changes meaning or goes away.</summary>
    public const string Schema = "bhyve-aot/check/1";

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = $"machine-readable report (snake_case JSON; \"schema\": \"{Schema}\")" };
        var command = new Command("check",
            "Report whether this host can run VMs: KVM, capabilities, CPU features, io_uring.\n"
            + $"Exit status 0 when it can, {ExitCodes.HostUnsupported} when it cannot (the reasons are listed).") { json };
        command.SetAction(result => Run(result.GetValue(json), Console.Out));
        return command;
    }

    public static int Run(bool json, TextWriter output)
    {
        var report = HostProbe.Probe();
        if (json) output.WriteLine(Json(report));
        else output.Write(HostReportText.Format(report));
        return report.CanRunVms ? ExitCodes.Success : ExitCodes.HostUnsupported;
    }

    /// <summary>The report with `schema` and `version` in front, so a consumer can tell what it is reading.</summary>
    public static string Json(HostReport report)
    {
        using var body = JsonDocument.Parse(JsonSerializer.Serialize(report, HostReportJsonContext.Printable.HostReport));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("schema", Schema);
            writer.WriteString("version", Version);
            foreach (var property in body.RootElement.EnumerateObject()) property.WriteTo(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>bhyve-aot's version (the assembly's informational version, without a source revision suffix).</summary>
    public static string Version =>
        (typeof(CheckCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0").Split('+')[0];
}
