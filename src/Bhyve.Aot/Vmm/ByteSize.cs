using System.Globalization;

namespace Bhyve.Aot.Vmm;

/// <summary>Sizes as users write them: 64M, 1G, 512K, 4096 (bytes), with optional "iB"/"B" suffixes.</summary>
public static class ByteSize
{
    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        var s = text.Trim();
        if (s.Length == 0) return false;
        ulong multiplier = 1;
        string upper = s.ToUpperInvariant();
        foreach (var suffix in new[] { "IB", "B" })
            if (upper.Length > suffix.Length && upper.EndsWith(suffix, StringComparison.Ordinal) && char.IsLetter(upper[^(suffix.Length + 1)]))
            {
                upper = upper[..^suffix.Length];
                break;
            }
        char last = upper[^1];
        int shift = last switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift != 0) upper = upper[..^1];
        multiplier <<= shift;
        if (!ulong.TryParse(upper, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)) return false;
        if (value > ulong.MaxValue / multiplier) return false;
        bytes = value * multiplier;
        return true;
    }

    public static string Format(ulong bytes) => bytes switch
    {
        >= 1UL << 30 when bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        >= 1UL << 20 when bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        >= 1UL << 10 when bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
