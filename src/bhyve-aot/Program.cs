using System.CommandLine;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>bhyve-aot: the command line. Parsing only; everything else lives in the Bhyve.Aot library.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("bhyve-aot: a micro-VMM for Linux/KVM in the spirit of bhyve, one NativeAOT binary.\n\n" + ExitCodes.Table)
        {
            RunCommand.Create(),
            CheckCommand.Create(),
            BenchCommand.Create(),
        };
        return Invoke(root, args);
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
