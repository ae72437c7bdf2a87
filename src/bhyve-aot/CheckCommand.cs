using System.CommandLine;

namespace Bhyve.Aot.Cli;

/// <summary>`bhyve-aot check`: can this host run VMs, and if not, why not.</summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "machine-readable report" };
        var command = new Command("check", "Report whether this host can run VMs: KVM, capabilities, CPU features, io_uring.") { json };
        command.SetAction(result => 0);
        return command;
    }
}
