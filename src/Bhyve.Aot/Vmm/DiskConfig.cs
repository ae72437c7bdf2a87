using System.Globalization;

namespace Bhyve.Aot.Vmm;

/// <summary>What a guest may do with discard requests on a virtio-blk disk.</summary>
public enum DiscardMode
{
    /// <summary>Offer DISCARD and punch holes in the backing file.</summary>
    Unmap,
    /// <summary>Do not offer DISCARD (the file never shrinks).</summary>
    Ignore,
}

/// <summary>One virtio-blk disk, as given by `--disk path=...,readonly,discard=unmap|ignore,direct,queues=N,queue-size=N,size=S,create,serial=S`.</summary>
public sealed record DiskConfig
{
    public const int MaxQueues = 16;
    public const int DefaultQueueSize = 256;

    public required string Path { get; init; }
    public bool ReadOnly { get; init; }
    public DiscardMode Discard { get; init; } = DiscardMode.Unmap;
    public bool Direct { get; init; }
    public int Queues { get; init; } = 1;
    public int QueueSize { get; init; } = DefaultQueueSize;
    /// <summary>Size for a file made with `create` (bytes); 0 when not creating.</summary>
    public ulong CreateSize { get; init; }
    public bool Create { get; init; }
    public string Serial { get; init; } = "";

    /// <summary>Parses the comma-separated form; throws ConfigException naming the bad key.</summary>
    public static DiskConfig Parse(string text)
    {
        string? path = null;
        bool readOnly = false, direct = false, create = false;
        var discard = DiscardMode.Unmap;
        int queues = 1, queueSize = DefaultQueueSize;
        ulong size = 0;
        string serial = "";
        foreach (var part in text.Split(','))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq];
            string? value = eq < 0 ? null : part[(eq + 1)..];
            switch (key)
            {
                case "path": path = Require(key, value); break;
                case "readonly" or "ro": readOnly = Flag(key, value); break;
                case "direct": direct = Flag(key, value); break;
                case "create": create = Flag(key, value); break;
                case "discard":
                    discard = Require(key, value) switch
                    {
                        "unmap" or "on" => DiscardMode.Unmap,
                        "ignore" or "off" => DiscardMode.Ignore,
                        _ => throw new ConfigException($"--disk discard={value}: expected unmap or ignore"),
                    };
                    break;
                case "queues": queues = Number(key, value, 1, MaxQueues); break;
                case "queue-size":
                    queueSize = Number(key, value, 2, 1024);
                    if ((queueSize & (queueSize - 1)) != 0) throw new ConfigException($"--disk queue-size={value}: must be a power of two (2..1024)");
                    break;
                case "size":
                    if (!ByteSize.TryParse(Require(key, value), out size) || size == 0 || size % 512 != 0)
                        throw new ConfigException($"--disk size={value}: expected a non-zero multiple of 512 bytes (e.g. 1G)");
                    break;
                case "serial":
                    serial = Require(key, value);
                    if (serial.Length > 20 || serial.Any(c => c < 0x20 || c > 0x7E)) throw new ConfigException($"--disk serial={value}: at most 20 printable ASCII characters");
                    break;
                case "" when eq < 0 && path is null: break;
                default:
                    // A bare first word is the path, as in `--disk disk.img,readonly`.
                    if (eq < 0 && path is null && part.Length > 0) { path = part; break; }
                    throw new ConfigException($"--disk: unknown option '{key}' (path, readonly, discard, direct, queues, queue-size, size, create, serial)");
            }
        }
        if (string.IsNullOrEmpty(path)) throw new ConfigException("--disk: no path (--disk path=disk.img)");
        if (create && size == 0) throw new ConfigException("--disk create needs size= (e.g. size=1G)");
        if (!create && size != 0) throw new ConfigException("--disk size= is only used with create");
        if (create && readOnly) throw new ConfigException("--disk create and readonly together make no sense");
        return new DiskConfig
        {
            Path = path, ReadOnly = readOnly, Discard = discard, Direct = direct, Queues = queues, QueueSize = queueSize,
            Create = create, CreateSize = size, Serial = serial,
        };
    }

    private static string Require(string key, string? value) =>
        string.IsNullOrEmpty(value) ? throw new ConfigException($"--disk {key}= needs a value") : value;

    private static bool Flag(string key, string? value) => value switch
    {
        null or "on" or "true" or "1" => true,
        "off" or "false" or "0" => false,
        _ => throw new ConfigException($"--disk {key}={value}: expected on or off"),
    };

    private static int Number(string key, string? value, int min, int max)
    {
        if (!int.TryParse(Require(key, value), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new ConfigException($"--disk {key}={value}: expected {min}..{max}");
        return n;
    }
}
