using System.CommandLine;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>bhyve-aot: the command line. Parsing only; everything else lives in the Bhyve.Aot library.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // solo5-hvt's command line, as a drop-in (`bhyve-aot solo5-hvt ...` or argv[0] solo5-hvt): its own reader.
        if (Solo5HvtCommand.ArgumentsOf(Environment.GetCommandLineArgs().FirstOrDefault(), args) is { } solo5) return Solo5HvtCommand.Run(solo5);
        // Called `firecracker` (a symlink), or with one of Firecracker's flags first: Firecracker's command line.
        if (FirecrackerCommand.Matches(Environment.GetCommandLineArgs().FirstOrDefault() ?? "", args)) return FirecrackerCommand.Execute(args);
        // bhyve's own form has no subcommand and single-letter options; System.CommandLine does not read it.
        if (BhyveForm.Matches(args)) return BhyveForm.Dispatch(args, RunCommand.Run);
        // `config print` takes a whole run command line, in any of the three forms, as its arguments.
        if (args is ["config", "print", var first, ..] && first is not ("-h" or "--help" or "-?")) return ConfigCommand.Print(args[2..]);
        return Invoke(Root(), args);
    }

    /// <summary>The command tree: `bhyve-aot --help` ends with the bhyve form, its examples and the exit status table.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand(
            "bhyve-aot: a micro-VMM for Linux/KVM in the spirit of bhyve, one NativeAOT binary.\n\n"
            + "  bhyve-aot run --kernel FILE [options]     boot a kernel (bhyve-aot run --help)\n"
            + "  bhyve-aot run --config FILE               boot the machine a JSON machine file describes\n"
            + "  bhyve-aot [bhyve options] VMNAME          the same, in bhyve's syntax (below)\n"
            + "  bhyve-aot config print MACHINE...         the effective configuration, as a machine file")
        {
            RunCommand.Create(),
            CheckCommand.Create(),
            ConfigCommand.Create(),
            BenchCommand.Create(),
        };
        HelpEpilogue.Set(root, BhyveForm.Help + "\n\n" + HelpExamples.Format(HelpExamples.Bhyve) + "\n\n" + ExitCodes.Table);
        return HelpEpilogue.Install(root);
    }

    /// <summary>Parses and runs; a parse error gives one line on stderr and exit status 2, not a help dump.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // The most specific error first: "Unrecognized command or argument 'x'" says more than "command required".
            var error = result.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? result.Errors[0];
            Console.Error.WriteLine($"bhyve-aot: {error.Message}");
            return ExitCodes.Usage;
        }
        return result.Invoke();
    }

    /// <summary>One line on stderr, prefixed with the program name.</summary>
    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"bhyve-aot: {message}");
        return code;
    }
}
