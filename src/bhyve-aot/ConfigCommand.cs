using System.CommandLine;
using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// `bhyve-aot config print MACHINE...`: the effective configuration as a machine file, from any of the three forms
/// (`run` options, `run --config FILE`, the bhyve form), so they can be compared, or a command line turned into a file.
/// </summary>
public static class ConfigCommand
{
    private const string Usage = "give the machine as you would run it: `config print run --kernel ...`, `config print --config FILE` or `config print -s ... NAME`";

    /// <summary>The command tree for --help; Program sends `config print ARGS...` to <see cref="Print"/> itself,
    /// because the bhyve form's arguments are not System.CommandLine's to parse.</summary>
    public static Command Create()
    {
        var machine = new Argument<string[]>("machine") { Description = "a run command line: `run ...`, `--config FILE`, or the bhyve form", Arity = ArgumentArity.ZeroOrMore };
        var print = new Command("print", "Print a machine's effective configuration as a JSON machine file.") { machine };
        HelpEpilogue.Set(print,
            "MACHINE is a run command line in any of the three forms. Every default and each device's PCI slot is spelled\n"
            + "out, so the forms can be compared; the output runs with `bhyve-aot run --config FILE`.\n\n"
            + HelpExamples.Format(HelpExamples.ConfigPrint) + "\n\n" + ExitCodes.ToolTable);
        print.SetAction(result => Print(result.GetValue(machine) ?? []));
        return new Command("config", "Machine configuration tools.") { print };
    }

    public static int Print(IReadOnlyList<string> machine)
    {
        if (machine.Count == 0) return Program.Fail(ExitCodes.Usage, $"config print: {Usage}");
        if (machine[0] == "run") return Program.Invoke(new RootCommand { RunCommand.Create(Write) }, [.. machine]);
        if (machine[0] == "--config") return Program.Invoke(new RootCommand { RunCommand.Create(Write) }, ["run", .. machine]);
        if (machine[0].StartsWith('-')) return BhyveForm.Dispatch(machine, Write, bhyveStatus: false);
        return Report.Fail(ExitCodes.Usage, $"config print: '{Os.InputFile.Escape(machine[0])}' is not a machine; {Usage}");
    }

    /// <summary>Prints an already validated configuration.</summary>
    private static int Write(VmConfig config, RunSwitches switches)
    {
        Console.Out.WriteLine(MachineFileWriter.Write(config));
        return ExitCodes.Success;
    }
}
