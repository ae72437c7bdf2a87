using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Architecture;

/// <summary>
/// Unsafe code is written down: no type is unsafe as a whole, and every unsafe member, unsafe block and Unsafe.*
/// call carries a one-line `// SAFETY:` comment naming the check that makes it safe (on its line or right above).
/// </summary>
public class UnsafeSafetyTests
{
    /// <summary>
    /// Folders being rewritten by rt-core's issue-13 work (event loop, device workers, virtqueue API, guest slices),
    /// which narrows and annotates its own unsafe code. The coordinator deletes this list once that work lands.
    /// Paths are under src/.
    /// </summary>
    public static readonly IReadOnlyList<string> PendingRtCore = [];   // empty: rt-core's landed work annotated all of it

    private static readonly Lazy<UnsafeSites.Site[]> Sites = new(() => [.. UnsafeSites.Read(Path.Combine(Repo.Root, "src"))]);

    private static bool Pending(UnsafeSites.Site s) => PendingRtCore.Any(p => s.File.StartsWith(p, StringComparison.Ordinal));

    [Fact]
    public void Every_unsafe_site_says_why_it_is_safe()
    {
        string[] missing = [.. Sites.Value.Where(s => !s.HasSafetyComment && !Pending(s)).Select(s => s.ToString())];
        Assert.True(missing.Length == 0, $"{missing.Length} unsafe sites without a // SAFETY: comment:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void No_type_is_unsafe_as_a_whole()
    {
        string[] whole = [.. Sites.Value.Where(s => s.WholeType && !Pending(s)).Select(s => s.ToString())];
        Assert.True(whole.Length == 0, "unsafe types (mark the members that need it instead):\n" + string.Join("\n", whole));
    }

    [Fact]
    public void Every_pending_folder_still_has_unannotated_unsafe_code()
    {
        // Once rt-core's work lands annotated, its entry goes: the rule then holds everywhere. (A folder that
        // work has not created yet has nothing to check.)
        string src = Path.Combine(Repo.Root, "src");
        foreach (string path in PendingRtCore.Where(p => File.Exists(Path.Combine(src, p)) || Directory.Exists(Path.Combine(src, p))))
            Assert.True(
                Sites.Value.Any(s => s.File.StartsWith(path, StringComparison.Ordinal) && (!s.HasSafetyComment || s.WholeType)),
                $"{path} has no unannotated unsafe code left: delete it from UnsafeSafetyTests.PendingRtCore");
    }

    [Fact]
    public void The_scanner_finds_members_blocks_and_unsafe_calls_and_reads_their_comments()
    {
        const string code = """
            public sealed unsafe class Whole { }
            public class Narrow
            {
                // SAFETY: p points at 16 bytes the caller checked.
                public unsafe int First(byte* p) => p[0];

                /// <summary>Documented, but not said why it is safe.</summary>
                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                private unsafe int Second(byte* p) => p[1];

                public int Third(ref byte b)
                {
                    unsafe { } // SAFETY: nothing is dereferenced.
                    return Unsafe.Add(ref b, 1);
                }
                // "unsafe" in a string and in a comment: unsafe
                private string Text = "unsafe";
            }
            """;
        var sites = UnsafeSites.InFile("x.cs", code).ToArray();
        Assert.Equal([1, 5, 9, 13, 14], sites.Select(s => s.Line));
        Assert.Equal([false, true, false, true, false], sites.Select(s => s.HasSafetyComment));
        Assert.Equal([true, false, false, false, false], sites.Select(s => s.WholeType));
    }
}
