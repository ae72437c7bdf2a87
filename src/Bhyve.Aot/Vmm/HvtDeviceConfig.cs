namespace Bhyve.Aot.Vmm;

/// <summary>
/// A Solo5 hvt device attached by its manifest name: `--block-device NAME=PATH` or `--net-device NAME=TAP`, or
/// solo5-hvt's `--block:NAME=PATH` and `--net:NAME=TAP`. BlockSize is a block device's sector size (0: solo5-hvt's
/// default, 512; `--block-sector-size:NAME=N`); Mac a network device's address (null: a random one; `--net-mac:NAME=MAC`).
/// </summary>
public sealed record HvtDeviceConfig(string Name, string Target, ushort BlockSize = 0, ulong? Mac = null)
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
