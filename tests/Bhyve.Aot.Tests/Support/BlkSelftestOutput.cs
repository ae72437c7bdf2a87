using System.Globalization;
using System.Text.RegularExpressions;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// blk-selftest's and nvme-selftest's serial output (native/guest/README.md): `ok`/`FAIL`/`skip` lines, the final
/// `layout:` and `zero:` ranges, and the `blk-selftest: N passed, M failed` (or `nvme-selftest: ...`) summary; plus
/// the byte check of a disk image.
/// </summary>
internal sealed partial class BlkSelftestOutput
{
    public BlkSelftestOutput(string stdout)
    {
        Text = stdout;
        var lines = stdout.Split('\n');
        foreach (string line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            if (f[0] == "layout:" && f.Length == 4) Layout.Add((ulong.Parse(f[1], CultureInfo.InvariantCulture), ulong.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture)));
            else if (f[0] == "zero:" && f.Length == 3) Zero.Add((ulong.Parse(f[1], CultureInfo.InvariantCulture), ulong.Parse(f[2], CultureInfo.InvariantCulture)));
            else if (f[0] == "FAIL") Failures.Add(line);
            else if (f[0] == "ok") Ok.Add(f[1]);
        }
        var m = Summary().Match(stdout);
        Passed = m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
        Failed = m.Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : -1;
    }

    public string Text { get; }
    public List<(ulong Offset, ulong Length, int K)> Layout { get; } = [];
    public List<(ulong Offset, ulong Length)> Zero { get; } = [];
    public List<string> Failures { get; } = [];
    public List<string> Ok { get; } = [];
    public int Passed { get; }
    public int Failed { get; }

    [GeneratedRegex(@"^(?:blk|nvme)-selftest: (\d+) passed, (\d+) failed$", RegexOptions.Multiline)]
    private static partial Regex Summary();

    /// <summary>The pattern byte check k leaves at disk offset o.</summary>
    public static byte Pattern(ulong o, int k) => (byte)((o * 7 + (o >> 9) * 13 + (ulong)k * 29) ^ 0xA5);

    /// <summary>Every listed range of the image holds what the guest says; returns the mismatches (empty when all match).</summary>
    public List<string> Verify(string imagePath)
    {
        var bad = new List<string>();
        using var f = new FileStream(imagePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        foreach (var (offset, length, k) in Layout) Check(f, offset, length, k, bad);
        foreach (var (offset, length) in Zero) Check(f, offset, length, null, bad);
        return bad;
    }

    private static void Check(FileStream f, ulong offset, ulong length, int? k, List<string> bad)
    {
        var got = new byte[length];
        f.Position = (long)offset;
        f.ReadExactly(got);
        for (ulong i = 0; i < length; i++)
        {
            byte want = k is int kk ? Pattern(offset + i, kk) : (byte)0;
            if (got[i] != want)
            {
                bad.Add($"{(k is null ? "zero" : $"layout k={k}")} {offset}+{length}: byte {offset + i} is 0x{got[i]:x2}, want 0x{want:x2}");
                return;
            }
        }
    }

    public override string ToString() => Text;
}
