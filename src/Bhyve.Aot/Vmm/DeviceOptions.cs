using System.Globalization;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// Reads a device's comma-separated `key=value,flag` list (as in `--disk path=a.img,readonly`), one part at a
/// time, and words every complaint with the option's name so a user sees which key was wrong.
/// </summary>
public ref struct DeviceOptions
{
    private readonly string _option;
    private readonly string[] _parts;
    private int _index;

    public DeviceOptions(string option, string text)
    {
        _option = option;
        _parts = text.Split(',');
        _index = -1;
    }

    public string Key { get; private set; } = "";
    public string? Value { get; private set; }
    /// <summary>True for the first part when it carries no '=' (a bare path, as bhyve writes it).</summary>
    public bool IsBareFirst => _index == 0 && Value is null;
    public string Part => _parts[_index];

    public bool MoveNext()
    {
        while (++_index < _parts.Length)
        {
            string part = _parts[_index];
            if (part.Length == 0) continue;
            int eq = part.IndexOf('=');
            Key = eq < 0 ? part : part[..eq];
            Value = eq < 0 ? null : part[(eq + 1)..];
            return true;
        }
        return false;
    }

    public readonly ConfigException Error(string what) => new($"{_option} {Key}={Value}: {what}");

    public readonly string Text() => string.IsNullOrEmpty(Value) ? throw new ConfigException($"{_option} {Key}= needs a value") : Value;

    public readonly bool Flag() => Value switch
    {
        null or "on" or "true" or "1" => true,
        "off" or "false" or "0" => false,
        _ => throw Error("expected on or off"),
    };

    public readonly int Number(int min, int max)
    {
        if (!int.TryParse(Text(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw Error($"expected {min}..{max}");
        return n;
    }

    public readonly int PowerOfTwo(int min, int max)
    {
        int n = Number(min, max);
        if ((n & (n - 1)) != 0) throw Error($"must be a power of two ({min}..{max})");
        return n;
    }

    public readonly ulong Size(ulong multiple)
    {
        if (!ByteSize.TryParse(Text(), out ulong size) || size == 0 || size % multiple != 0)
            throw Error($"expected a non-zero multiple of {multiple} bytes (e.g. 1G)");
        return size;
    }

    /// <summary>A drive serial: at most <paramref name="max"/> printable ASCII characters.</summary>
    public readonly string Serial(int max)
    {
        string s = Text();
        if (!IsSerial(s, max)) throw Error($"at most {max} printable ASCII characters");
        return s;
    }

    public static bool IsSerial(string s, int max) => s.Length <= max && s.All(c => c >= 0x20 && c <= 0x7E);

    public readonly ConfigException Unknown(string known) => new($"{_option}: unknown option '{Key}' ({known})");
}
