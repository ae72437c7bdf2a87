namespace Bhyve.Aot.Vmm;

/// <summary>
/// A Solo5 hvt device attached by its manifest name: `--block-device NAME=PATH` or `--net-device NAME=TAP`.
/// </summary>
public sealed record HvtDeviceConfig(string Name, string Target)
{
    /// <summary>Solo5 limits manifest names to 67 characters of [A-Za-z0-9_].</summary>
    public const int MaxNameLength = 67;

    public static HvtDeviceConfig Parse(string option, string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1) throw new ConfigException($"{option} {text}: expected NAME=TARGET");
        string name = text[..eq];
        if (name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ConfigException($"{option} {text}: a device name is at most {MaxNameLength} characters of A-Z, a-z, 0-9 and _");
        return new HvtDeviceConfig(name, text[(eq + 1)..]);
    }
}
