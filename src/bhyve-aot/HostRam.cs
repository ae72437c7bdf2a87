using System.Globalization;

namespace Bhyve.Aot.Cli;

/// <summary>The host's RAM (MemTotal in /proc/meminfo), for refusing a guest larger than the machine it runs on.</summary>
public static class HostRam
{
    /// <summary>Bytes of RAM, or null when /proc/meminfo cannot be read (then nothing is refused).</summary>
    public static ulong? TotalBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (Parse(line) is { } total) return total;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>"MemTotal:       23712345 kB" to bytes; null for any other line.</summary>
    public static ulong? Parse(string line)
    {
        if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) return null;
        string[] words = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 2 && words[1] == "kB" && ulong.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong kib) && kib < 1UL << 50
            ? kib << 10 : null;
    }
}
