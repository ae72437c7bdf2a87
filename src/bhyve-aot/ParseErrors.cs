using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Cli;

/// <summary>
/// System.CommandLine's parse errors in our words, as one line: the command they are for, "did you mean" for a
/// mistyped option or command (closest by edit distance among the names that command takes), and where help is.
/// </summary>
public static partial class ParseErrors
{
    public static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        string path = CommandPath(result.CommandResult);
        string help = $"see `bhyve-aot {(path.Length == 0 ? "" : path + " ")}--help`";
        string where = path.Length == 0 ? "" : path + ": ";
        if (result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            string? guess = Closest(token, Names(command, token.StartsWith('-')));
            string kind = token.StartsWith('-') ? "unknown option" : command.Subcommands.Count > 0 ? "unknown command" : "unexpected argument";
            string hint = guess is not null ? $" (did you mean {guess}?)"
                : !token.StartsWith('-') && command.Subcommands.Count > 0 ? $" (commands: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))})"
                : "";
            return $"{where}{kind} '{InputFile.Escape(token)}'{hint}; {help}";
        }
        var error = result.Errors[0];
        string message = error.Message;
        if (RequiredOption().Match(message) is { Success: true } required)
            return $"{where}{required.Groups[1].Value} is required; {help}";
        if (message.StartsWith("Required command was not provided", StringComparison.Ordinal))
            return $"{where}give a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}; {help}";
        if (MissingValue().Match(message) is { Success: true } missing)
            return $"{where}{missing.Groups[1].Value} needs a value; {help}";
        if (CannotParse().Match(message) is { Success: true } bad)
            return $"{where}{bad.Groups[2].Value}: '{InputFile.Escape(bad.Groups[1].Value)}' is not a valid value; {help}";
        // Our own validators' messages, and any other of the library's, which name no .NET type.
        return $"{where}{message.TrimEnd('.')}";
    }

    /// <summary>"run: unknown option '--kernal' (did you mean --kernel?)" for a token a command's own code found.</summary>
    public static string UnknownOption(Command command, string commandPath, string token)
    {
        string? guess = Closest(token, Names(command, options: true));
        return $"{commandPath}: unknown option '{InputFile.Escape(token)}'{(guess is null ? "" : $" (did you mean {guess}?)")}; see `bhyve-aot {commandPath} --help`";
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c && c.Parent is not null; r = c.Parent) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    private static IEnumerable<string> Names(Command command, bool options) =>
        options
            ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal))
            : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);

    /// <summary>The name nearest to <paramref name="token"/> within a third of its length (at least 2 edits), or a unique prefix match.</summary>
    public static string? Closest(string token, IEnumerable<string> names)
    {
        string word = token.Split('=', 2)[0];
        var list = names.Distinct().ToList();
        var prefixed = list.Where(n => n.StartsWith(word, StringComparison.Ordinal) && word.Length >= 3).ToList();
        if (prefixed.Count == 1) return prefixed[0];
        int limit = Math.Max(2, word.TrimStart('-').Length / 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string n in list)
        {
            int d = Distance(word, n);
            if (d < bestDistance) (best, bestDistance) = (n, d);
        }
        return bestDistance <= limit ? best : null;
    }

    /// <summary>Damerau-Levenshtein (optimal string alignment): a swapped pair of letters is one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    [GeneratedRegex("^Option '([^']+)' is required")]
    private static partial Regex RequiredOption();

    [GeneratedRegex("^Required argument missing for option: '([^']+)'")]
    private static partial Regex MissingValue();

    [GeneratedRegex("^Cannot parse argument '(.*)' for (?:option|command|argument) '([^']+)'")]
    private static partial Regex CannotParse();
}
