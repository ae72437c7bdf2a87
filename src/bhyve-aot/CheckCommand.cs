using System.CommandLine;
using System.Text.Json;
using Bhyve.Aot.Host;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot check`: can this host run VMs, and if not, why not.</summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "machine-readable report" };
        var command = new Command("check",
            "Report whether this host can run VMs: KVM, capabilities, CPU features, io_uring.\n"
            + $"Exit status 0 when it can, {ExitCodes.HostUnsupported} when it cannot (the reasons are listed).") { json };
        command.SetAction(result => Run(result.GetValue(json), Console.Out));
        return command;
    }

    public static int Run(bool json, TextWriter output)
    {
        var report = HostProbe.Probe();
        if (json) output.WriteLine(JsonSerializer.Serialize(report, HostReportJsonContext.Printable.HostReport));
        else output.Write(HostReportText.Format(report));
        // ExitCodes.PoweredOff doubles as check's success status (see its doc comment).
        return report.CanRunVms ? ExitCodes.PoweredOff : ExitCodes.HostUnsupported;
    }
}
