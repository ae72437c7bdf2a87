using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>One device the unikernel declares: its name and type; its handle is its index in the manifest.</summary>
public readonly record struct Solo5ManifestEntry(int Handle, string Name, Solo5DeviceType Type);

/// <summary>
/// The Solo5 application manifest ("MFT1" note, struct mft of mft_abi.h): the devices a unikernel needs, by name.
/// Parsed from untrusted image bytes with the checks of Solo5's mft_validate, plus names a host can pass on
/// a command line and no duplicates. The layout is the x86-64 one: struct mft is 8 bytes of header and
/// 104-byte entries (name[68], u32 type, 16-byte union of device properties, 8-byte host field, bool attached).
/// </summary>
public sealed class Solo5Manifest
{
    public const string NoteName = "Solo5";
    public const uint NoteType = 0x3154_464D; // "MFT1"
    public const uint Version = 1;
    public const int MaxEntries = 64;
    public const int HeaderSize = 8;
    public const int EntrySize = 104;
    public const int NameSize = 68;
    public const int NameMax = NameSize - 1;
    /// <summary>struct mft is 8-byte aligned, so its note descriptor starts with 4 bytes of padding after the 20-byte note header.</summary>
    public const int DescriptorPadding = 4;
    public const int MaxDescriptorSize = DescriptorPadding + HeaderSize + MaxEntries * EntrySize;

    // Offsets inside one entry.
    public const int TypeOffset = 68, PropertiesOffset = 72, HostOffset = 88, AttachedOffset = 96;

    private Solo5Manifest(Solo5ManifestEntry[] entries) => Entries = entries;

    /// <summary>Every entry, the reserved entry 0 included, so that Entries[h].Handle == h.</summary>
    public IReadOnlyList<Solo5ManifestEntry> Entries { get; }

    /// <summary>Size of the manifest as the guest sees it (struct mft with its entries).</summary>
    public int Size => HeaderSize + Entries.Count * EntrySize;

    public IEnumerable<Solo5ManifestEntry> Devices => Entries.Where(e => e.Type != Solo5DeviceType.ReservedFirst);

    public static Solo5Manifest Parse(ReadOnlySpan<byte> descriptor)
    {
        if (descriptor.Length > MaxDescriptorSize)
            throw Bad($"its note is {descriptor.Length} bytes, more than {MaxEntries} entries can take ({MaxDescriptorSize})");
        if (descriptor.Length < DescriptorPadding + HeaderSize)
            throw Bad($"note does not fall within valid size ({descriptor.Length} bytes, truncated)");
        var mft = descriptor[DescriptorPadding..];
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(mft);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(mft[4..]);
        if (version != Version) throw Bad($"manifest version {version} (expected {Version})");
        if (count > MaxEntries) throw Bad($"{count} entries (at most {MaxEntries})");
        if (count < 1) throw Bad("no entries (entry 0 is reserved and must be there)");
        long expected = HeaderSize + (long)count * EntrySize;
        if (mft.Length != expected)
            throw Bad(mft.Length < expected
                ? $"truncated: {count} entries need {expected} bytes, the note has {mft.Length}"
                : $"{mft.Length} bytes where {count} entries take {expected}");

        var entries = new Solo5ManifestEntry[count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var e = mft.Slice(HeaderSize + i * EntrySize, EntrySize);
            if (e[NameMax] != 0) throw Bad($"entry {i}: name is not NUL-terminated within {NameSize} bytes");
            int nul = e[..NameSize].IndexOf((byte)0);
            string name = System.Text.Encoding.ASCII.GetString(e[..nul]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(e[TypeOffset..]);
            if (e[AttachedOffset] != 0) throw Bad($"entry {i}: marked attached in the image (a host-only field)");
            if (i == 0)
            {
                if (type != (uint)Solo5DeviceType.ReservedFirst || name.Length != 0)
                    throw Bad("entry 0 is not the reserved entry (type MFT_RESERVED_FIRST, empty name)");
            }
            else
            {
                if (type is not ((uint)Solo5DeviceType.BlockBasic or (uint)Solo5DeviceType.NetBasic))
                    throw Bad($"entry {i} ('{Printable(name)}'): unknown device type {type}");
                if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                    throw Bad($"entry {i}: device name '{Printable(name)}' is not 1-{NameMax} characters of A-Z, a-z, 0-9 and _");
                if (!names.Add(name)) throw Bad($"device '{name}' is declared twice");
            }
            entries[i] = new Solo5ManifestEntry(i, name, (Solo5DeviceType)type);
        }
        return new Solo5Manifest(entries);
    }

    public static string TypeName(Solo5DeviceType type) => type switch
    {
        Solo5DeviceType.BlockBasic => "BLOCK_BASIC",
        Solo5DeviceType.NetBasic => "NET_BASIC",
        _ => "RESERVED",
    };

    private static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    private static BootImageException Bad(string why) => new($"invalid Solo5 manifest: {why}");
}
