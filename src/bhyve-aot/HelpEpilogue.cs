using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace Bhyve.Aot.Cli;

/// <summary>
/// Text printed after System.CommandLine's help for a command (examples, the bhyve form, the exit status table), so that
/// the one-line descriptions in command lists stay one line.
/// </summary>
public sealed class HelpEpilogue(HelpAction inner) : SynchronousCommandLineAction
{
    private static readonly ConditionalWeakTable<Command, string> s_texts = [];

    public static T Set<T>(T command, string text) where T : Command
    {
        s_texts.AddOrUpdate(command, text);
        return command;
    }

    /// <summary>Makes every --help under <paramref name="root"/> print the epilogue of the command it is for.</summary>
    public static RootCommand Install(RootCommand root)
    {
        foreach (var help in root.Options.OfType<HelpOption>())
            if (help.Action is HelpAction action) help.Action = new HelpEpilogue(action);
        return root;
    }

    public override int Invoke(ParseResult parseResult)
    {
        int status = inner.Invoke(parseResult);
        if (s_texts.TryGetValue(parseResult.CommandResult.Command, out var text))
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(text);
            output.WriteLine();
        }
        return status;
    }
}
