using System.CommandLine;
using System.CommandLine.Help;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>bhyve-aot: the command line. Parsing only; everything else lives in the Bhyve.Aot library.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return Dispatch(args);
        }
        // The last net: whatever escaped a command is one line and a documented status, never a stack trace.
        catch (Exception e) { return Report.Exception(e); }
    }

    /// <summary>Which front end reads <paramref name="args"/>.</summary>
    public static int Dispatch(string[] args)
    {
        // solo5-hvt's command line, as a drop-in (`bhyve-aot solo5-hvt ...` or argv[0] solo5-hvt): its own reader.
        if (Solo5HvtCommand.ArgumentsOf(Environment.GetCommandLineArgs().FirstOrDefault(), args) is { } solo5) return Solo5HvtCommand.Run(solo5);
        // Called `firecracker` (a symlink), or with one of Firecracker's flags first: Firecracker's command line.
        if (FirecrackerCommand.Matches(Environment.GetCommandLineArgs().FirstOrDefault() ?? "", args)) return FirecrackerCommand.Execute(args);
        if (args.Length == 0) return ShortUsage();
        // bhyve's own form has no subcommand and single-letter options; System.CommandLine does not read it.
        if (BhyveForm.Matches(args)) return BhyveForm.Dispatch(args, RunCommand.Run);
        // `config print` takes a whole run command line, in any of the three forms, as its arguments.
        if (args is ["config", "print", var first, ..] && first is not ("-h" or "--help" or "-?")) return ConfigCommand.Print(args[2..]);
        return Invoke(Root(), args);
    }

    /// <summary>`bhyve-aot` alone: what it does and where to look, on stderr, status 2.</summary>
    public static int ShortUsage()
    {
        Console.Error.WriteLine(
            """
            usage: bhyve-aot run --kernel FILE [options]     boot a kernel
                   bhyve-aot run --config FILE               boot the machine a JSON machine file describes
                   bhyve-aot [bhyve options] VMNAME          the same in bhyve(8)'s syntax (bhyve-aot -h)
                   bhyve-aot check | config print | bench storage
            `bhyve-aot --help` lists everything; `bhyve-aot COMMAND --help` explains one; README.md is the manual.
            """);
        return ExitCodes.Usage;
    }

    /// <summary>The command tree: `bhyve-aot --help` ends with the bhyve form, its examples and both exit status tables.</summary>
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
            SeccompProbeCommand.Create(),
        };
        HelpEpilogue.Set(root, BhyveForm.Help + "\n\n" + HelpExamples.Format(HelpExamples.Bhyve) + "\n\n" + ExitCodes.Table + "\n" + ExitCodes.BhyveTable);
        return HelpEpilogue.Install(root);
    }

    /// <summary>
    /// Parses and runs. Help wins over every other error (`bench storage --help` works although --disk is required);
    /// a parse error is one line on stderr (ParseErrors: with "did you mean") and status 2, not a help dump.
    /// Exceptions are not caught here: they reach Main's one handler (Report).
    /// </summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (result.Action is HelpAction or HelpEpilogue) return result.Invoke(invocation);
        if (result.Errors.Count > 0) return Report.Fail(ExitCodes.Usage, ParseErrors.Describe(result));
        return result.Invoke(invocation);
    }

    /// <summary>One line on stderr, prefixed with the program name (Report.Fail).</summary>
    public static int Fail(int code, string message) => Report.Fail(code, message);
}
