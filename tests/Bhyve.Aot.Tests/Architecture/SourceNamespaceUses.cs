using System.Text.RegularExpressions;

namespace Bhyve.Aot.Tests.Architecture;

/// <summary>
/// The namespaces each source file names: its `using` directives, fully qualified names (Bhyve.Aot.Kvm.X) and
/// names qualified relative to Bhyve.Aot (Devices.Legacy.AcpiPorts, Kvm.KvmException). This sees what metadata
/// cannot: a constant is compiled into the IL as its value, leaving no reference to the type that declared it.
/// </summary>
internal static partial class SourceNamespaceUses
{
    public sealed record Use(string File, int Line, string FromNamespace, string ToNamespace, string Text)
    {
        public override string ToString() => $"{File}:{Line}: {FromNamespace} -> {ToNamespace} ({Text})";
    }

    public static IReadOnlyList<Use> Read(string srcRoot)
    {
        var files = Directory.EnumerateFiles(srcRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(d => d is "obj" or "bin"))
            .Select(f => (Path: Path.GetRelativePath(srcRoot, f), Code: StripCommentsAndStrings(File.ReadAllText(f))))
            .ToArray();

        // Our namespaces and the types declared in each (for relative names like Kvm.KvmException).
        var typesByNamespace = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (_, code) in files)
            if (NamespaceOf(code) is { } ns)
            {
                if (!typesByNamespace.TryGetValue(ns, out var types)) typesByNamespace[ns] = types = [];
                foreach (Match m in TypeDeclaration().Matches(code)) types.Add(m.Groups[1].Value);
            }
        var relative = typesByNamespace.Keys
            .Where(ns => ns.StartsWith(Layers.Root + ".", StringComparison.Ordinal))
            .Select(ns => (Namespace: ns, Pattern: new Regex($@"(?<![\w.]){Regex.Escape(ns[(Layers.Root.Length + 1)..])}\.(\w+)", RegexOptions.CultureInvariant)))
            .ToArray();

        var uses = new List<Use>();
        foreach (var (path, code) in files)
        {
            if (NamespaceOf(code) is not { } from) continue;
            foreach (Match m in QualifiedName().Matches(code))
                if (LongestKnownPrefix(m.Value, typesByNamespace) is { } to) uses.Add(new Use(path, LineOf(code, m.Index), from, to, m.Value));
            foreach (var (ns, pattern) in relative)
                foreach (Match m in pattern.Matches(code))
                    if (typesByNamespace[ns].Contains(m.Groups[1].Value)) uses.Add(new Use(path, LineOf(code, m.Index), from, ns, m.Value));
        }
        return uses;
    }

    private static string? NamespaceOf(string code) => NamespaceDeclaration().Match(code) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>"Bhyve.Aot.Devices.Legacy.AcpiPorts.S5SleepType" -> "Bhyve.Aot.Devices.Legacy" (the longest declared namespace).</summary>
    private static string? LongestKnownPrefix(string name, Dictionary<string, HashSet<string>> known)
    {
        string candidate = name;
        while (true)
        {
            if (known.ContainsKey(candidate)) return candidate;
            int dot = candidate.LastIndexOf('.');
            if (dot < 0) return null;
            candidate = candidate[..dot];
        }
    }

    private static int LineOf(string code, int index) => 1 + code.AsSpan(0, index).Count('\n');

    /// <summary>Blanks comments and string/char literals (keeping line breaks), so prose never counts as a use.</summary>
    public static string StripCommentsAndStrings(string code)
    {
        var sb = new System.Text.StringBuilder(code.Length);
        int i = 0;
        while (i < code.Length)
        {
            char c = code[i];
            if (c == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                while (i < code.Length && code[i] != '\n') i++;
            }
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? code.Length : end + 2;
                sb.Append('\n', code.AsSpan(i, end - i).Count('\n'));
                i = end;
            }
            else if (c == '"' && code.AsSpan(i).StartsWith("\"\"\""))
            {
                int quotes = 0;
                while (i + quotes < code.Length && code[i + quotes] == '"') quotes++;
                int end = code.IndexOf(new string('"', quotes), i + quotes, StringComparison.Ordinal);
                end = end < 0 ? code.Length : end + quotes;
                sb.Append('\n', code.AsSpan(i, end - i).Count('\n'));
                i = end;
            }
            else if (c is '"' or '\'')
            {
                bool verbatim = i > 0 && code[i - 1] == '@' || i > 1 && code[i - 1] == '$' && code[i - 2] == '@';
                int j = i + 1;
                while (j < code.Length && code[j] != c)
                {
                    if (verbatim && code[j] == '"' && j + 1 < code.Length && code[j + 1] == '"') j++;
                    else if (!verbatim && code[j] == '\\') j++;
                    else if (!verbatim && code[j] == '\n') break;
                    j++;
                }
                sb.Append(' ');
                i = Math.Min(j + 1, code.Length);
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?|delegate\s+\w+)\s+(\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"(?<![\w.])Bhyve\.Aot(?:\.\w+)+", RegexOptions.CultureInvariant)]
    private static partial Regex QualifiedName();
}
