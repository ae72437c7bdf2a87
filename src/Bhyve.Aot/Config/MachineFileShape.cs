using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// Checks a machine file's JSON against the MachineFile types before it is deserialized, so every problem names the
/// field by its JSON path, its line and column, and what was expected: a syntax error, a field given twice (both
/// lines), an unknown field (and the fields that place takes), a value of the wrong type. It also remembers where
/// each field is, so later checks on values can point at them too (<see cref="Locate"/>).
/// </summary>
public sealed class MachineFileShape
{
    private readonly byte[] _json;
    private readonly string _source;
    private readonly MachineFileJsonContext _context;
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);
    private readonly int[] _lineStarts;

    private MachineFileShape(byte[] json, string source, MachineFileJsonContext context)
    {
        _json = json;
        _source = source;
        _context = context;
        var starts = new List<int> { 0 };
        for (int i = 0; i < json.Length; i++) if (json[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    /// <summary>Walks the whole document; throws ConfigException ("FILE:LINE:COLUMN: PATH: what is wrong") at the first problem.</summary>
    public static MachineFileShape Check(byte[] json, string source, MachineFileJsonContext context)
    {
        var shape = new MachineFileShape(json, source, context);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            if (!reader.Read()) throw shape.Fail(0, "", "the file is empty; a machine file is a JSON object");
            if (reader.TokenType != JsonTokenType.StartObject)
                throw shape.Fail(reader.TokenStartIndex, "", "the top level must be an object with boot-source, machine-config, drives, ...");
            shape.Value(ref reader, typeof(MachineFile), "");
            if (reader.Read()) throw shape.Fail(reader.TokenStartIndex, "", "more JSON after the machine's closing brace");
        }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? 0) + 1, column = (int)(e.BytePositionInLine ?? 0) + 1;
            long offset = line - 1 < shape._lineStarts.Length ? shape._lineStarts[line - 1] + column - 1 : json.Length;
            string what = offset >= json.Length ? "the file ends inside the JSON (a missing } or ], or an unclosed string)"
                : $"not valid JSON at '{(char)json[offset]}' (check the commas, quotes and brackets here)";
            throw new ConfigException($"{source}:{line}:{column}: {what}");
        }
        return shape;
    }

    /// <summary>"FILE:LINE:COLUMN" of the longest known JSON path that <paramref name="message"/> starts with, or FILE.</summary>
    public string Locate(string message)
    {
        string? best = null;
        foreach (string path in _positions.Keys)
            if (path.Length > (best?.Length ?? 0) && message.StartsWith(path, StringComparison.Ordinal)
                && (message.Length == path.Length || message[path.Length] is ' ' or ':' or '.' or '['))
                best = path;
        return best is null ? _source : $"{_source}:{_positions[best].Line}:{_positions[best].Column}";
    }

    private (int Line, int Column) Position(long offset)
    {
        int line = Array.BinarySearch(_lineStarts, (int)offset);
        if (line < 0) line = ~line - 1;
        return (line + 1, (int)offset - _lineStarts[line] + 1);
    }

    private ConfigException Fail(long offset, string path, string what)
    {
        var (line, column) = Position(offset);
        return new ConfigException($"{_source}:{line}:{column}: {(path.Length == 0 ? "" : path + ": ")}{what}");
    }

    /// <summary>The value at the reader, which must be of <paramref name="type"/>; leaves the reader on its last token.</summary>
    private void Value(ref Utf8JsonReader reader, Type type, string path)
    {
        if (reader.TokenType == JsonTokenType.Null) return;   // null is the field left out
        type = Nullable.GetUnderlyingType(type) ?? type;
        long at = reader.TokenStartIndex;
        if (type == typeof(string))
        {
            if (reader.TokenType != JsonTokenType.String) throw Fail(at, path, $"expected a string, not {Describe(reader.TokenType)}");
            return;
        }
        if (type == typeof(bool))
        {
            if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False)) throw Fail(at, path, $"expected true or false, not {Describe(reader.TokenType)}");
            return;
        }
        if (type == typeof(int) || type == typeof(ulong))
        {
            bool fits = reader.TokenType == JsonTokenType.Number && (type == typeof(int) ? reader.TryGetInt32(out _) : reader.TryGetUInt64(out _));
            if (!fits)
                throw Fail(at, path, reader.TokenType == JsonTokenType.Number
                    ? $"expected a whole number{(type == typeof(int) ? "" : " of 0 or more")}, not {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)}"
                    : $"expected a whole number, not {Describe(reader.TokenType)}");
            return;
        }
        // Firecracker's sections for devices not built here: any JSON; FirecrackerFields refuses all but null and [] by name.
        if (type == typeof(JsonElement))
        {
            reader.Skip();
            return;
        }
        var info = _context.GetTypeInfo(type) ?? throw Fail(at, path, "unexpected field type (a bug)");
        if (info.Kind == JsonTypeInfoKind.Dictionary)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw Fail(at, path, $"expected an object of strings, not {Describe(reader.TokenType)}");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string key = $"{path}.{reader.GetString()}";
                _positions[key] = Position(reader.TokenStartIndex);
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) throw Fail(reader.TokenStartIndex, key, $"expected a string, not {Describe(reader.TokenType)}");
            }
            return;
        }
        if (info.Kind == JsonTypeInfoKind.Enumerable)
        {
            var element = info.ElementType!;
            string expected = element == typeof(string) ? "a list of strings" : "a list of objects";
            if (reader.TokenType != JsonTokenType.StartArray) throw Fail(at, path, $"expected {expected}, not {Describe(reader.TokenType)}");
            for (int index = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; index++)
            {
                string item = $"{path}[{index}]";
                _positions[item] = Position(reader.TokenStartIndex);
                if (element == typeof(string) && reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    throw Fail(reader.TokenStartIndex, item, $"expected a string (as {path} is a list of strings), not {Describe(reader.TokenType)}");
                Value(ref reader, element, item);
            }
            return;
        }
        if (reader.TokenType != JsonTokenType.StartObject) throw Fail(at, path, $"expected an object, not {Describe(reader.TokenType)}");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            string field = path.Length == 0 ? name : $"{path}.{name}";
            var (line, column) = Position(reader.TokenStartIndex);
            if (seen.TryGetValue(name, out int first))
                throw Fail(reader.TokenStartIndex, field, $"the field is given twice (lines {first} and {line})");
            seen[name] = line;
            _positions[field] = (line, column);
            var property = info.Properties.FirstOrDefault(p => p.Name == name);
            if (property is null)
                throw Fail(reader.TokenStartIndex, field,
                    $"unknown field (the fields {(path.Length == 0 ? "at the top level" : "of " + path)} are {string.Join(", ", info.Properties.Select(p => p.Name))})");
            reader.Read();
            Value(ref reader, property.PropertyType, field);
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "true or false",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        _ => "null",
    };
}
