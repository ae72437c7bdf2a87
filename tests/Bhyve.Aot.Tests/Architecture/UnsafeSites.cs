using System.Text.RegularExpressions;

namespace Bhyve.Aot.Tests.Architecture;

/// <summary>
/// The unsafe code in a source file: every `unsafe` modifier or block and every System.Runtime.CompilerServices.Unsafe
/// call, whether a SAFETY comment says why it is safe, and whether a whole type is unsafe.
/// </summary>
internal static partial class UnsafeSites
{
    public sealed record Site(string File, int Line, string Code, bool HasSafetyComment, bool WholeType)
    {
        public override string ToString() => $"{File}:{Line}: {Code.Trim()}";
    }

    public static IReadOnlyList<Site> Read(string srcRoot) =>
        [.. Directory.EnumerateFiles(srcRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(d => d is "obj" or "bin"))
            .SelectMany(f => InFile(Path.GetRelativePath(srcRoot, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f)))];

    /// <summary>
    /// A site is annotated when its own line ends in a `// SAFETY` comment (or a doc comment's `<remarks>SAFETY`) or the comment and attribute lines right
    /// above it (up to a blank line or code) hold one.
    /// </summary>
    public static IEnumerable<Site> InFile(string path, string text)
    {
        string[] original = text.Split('\n');
        string[] code = SourceNamespaceUses.StripCommentsAndStrings(text).Split('\n');
        for (int i = 0; i < code.Length; i++)
        {
            if (!UnsafeUse().IsMatch(code[i])) continue;
            bool annotated = Safety().IsMatch(original[i]);
            for (int j = i - 1; !annotated && j >= 0; j--)
            {
                string above = original[j].Trim();
                if (!(above.StartsWith("//", StringComparison.Ordinal) || above.StartsWith('['))) break;
                annotated = Safety().IsMatch(above);
            }
            yield return new Site(path, i + 1, original[i], annotated, UnsafeType().IsMatch(code[i]));
        }
    }

    [GeneratedRegex(@"\bunsafe\b|\bUnsafe\.\w+", RegexOptions.CultureInvariant)]
    private static partial Regex UnsafeUse();

    /// <summary>`// SAFETY:` or, in a doc comment, `/// <remarks>SAFETY: ...</remarks>`.</summary>
    [GeneratedRegex(@"//[/\s]*(?:<remarks>\s*)?SAFETY\b", RegexOptions.CultureInvariant)]
    private static partial Regex Safety();

    [GeneratedRegex(@"\bunsafe\s+(?:\w+\s+)*(?:class|struct|interface|record)\b", RegexOptions.CultureInvariant)]
    private static partial Regex UnsafeType();
}
