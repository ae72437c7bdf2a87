using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>Reads the storage-bench guest's console output: `result: key=value ...`, `error: ...`, `info: ...` lines.</summary>
public static class GuestOutputParser
{
    /// <summary>The result line's fields; throws FormatException naming what is wrong (a missing key, a bad number).</summary>
    public static GuestResult ParseResultLine(string line)
    {
        const string prefix = "result:";
        if (!line.StartsWith(prefix, StringComparison.Ordinal)) throw new FormatException($"not a result line: '{line}'");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string token in line[prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = token.IndexOf('=');
            if (eq <= 0) throw new FormatException($"result line: '{token}' is not key=value");
            fields[token[..eq]] = token[(eq + 1)..];
        }
        string Text(string key) => fields.TryGetValue(key, out string? v) ? v : throw new FormatException($"result line: no {key}=");
        long Number(string key)
        {
            string text = Text(key);
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
                ? v : throw new FormatException($"result line: {key}={text} is not a non-negative integer");
        }
        return new GuestResult(Text("dev"), Text("wl"), checked((int)Number("bs")), checked((int)Number("qd")), Number("ops"),
            Number("reads"), Number("writes"), Number("flushes"), Number("discards"), Number("bytes"), Number("cycles"),
            Number("tsc_khz"), Number("lat_p50"), Number("lat_p90"), Number("lat_p99"), Number("lat_p999"),
            Number("lat_min"), Number("lat_max"), Number("kicks"));
    }

    /// <summary>
    /// The single result in a whole console transcript. A missing result is explained by the guest's `error:` line
    /// when there is one, else by the last line it printed.
    /// </summary>
    public static GuestResult ParseTranscript(string output)
    {
        string[] lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? result = lines.LastOrDefault(l => l.StartsWith("result:", StringComparison.Ordinal));
        if (result is not null) return ParseResultLine(result);
        string? error = lines.FirstOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
        throw new FormatException(error is not null ? $"guest: {error["error:".Length..].Trim()}"
            : lines.Length > 0 ? $"guest printed no result (last line: '{lines[^1]}')" : "guest printed nothing");
    }
}
