using System.Globalization;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// Sizes as users write them, the same in every front end: a K/M/G/T suffix (upper or lower case, optionally followed
/// by "iB" or "B"), a "B" suffix for bytes, or a plain number, which means MiB, as bhyve's -m and QEMU's -m read it.
/// </summary>
public static class ByteSize
{
    public const string Examples = "e.g. 512M, 2G, or 512 for MiB";

    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        var s = text.Trim();
        if (s.Length == 0) return false;
        string upper = s.ToUpperInvariant();
        int shift;
        if (upper.EndsWith("IB", StringComparison.Ordinal) && upper.Length > 2 && char.IsLetter(upper[^3])) upper = upper[..^2];
        else if (upper.EndsWith('B') && upper.Length > 1 && char.IsLetter(upper[^2])) upper = upper[..^1];
        char last = upper[^1];
        if (last == 'B') { shift = 0; upper = upper[..^1]; }
        else if (last is 'K' or 'M' or 'G' or 'T') { shift = last switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 40 }; upper = upper[..^1]; }
        else shift = 20;   // a plain number is MiB
        if (!ulong.TryParse(upper, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)) return false;
        if (value > ulong.MaxValue >> shift) return false;
        bytes = value << shift;
        return true;
    }

    /// <summary>The shortest spelling <see cref="TryParse"/> reads back as the same number of bytes.</summary>
    public static string Format(ulong bytes) => bytes switch
    {
        >= 1UL << 40 when bytes % (1UL << 40) == 0 => $"{bytes >> 40}T",
        >= 1UL << 30 when bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        >= 1UL << 20 when bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        >= 1UL << 10 when bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
