using System.Buffers.Binary;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>The Solo5 ABI1 and MFT1 notes: what solo5-hvt accepts, and every malformed note refused with its reason.</summary>
public class Solo5NoteTests
{
    [Fact]
    public void Abi_note_of_an_hvt_image_is_read()
    {
        var note = Solo5AbiNote.Parse(Solo5Notes.AbiDescriptor(1, 1));
        Assert.Equal(new Solo5AbiNote(1, 1), note);
        note.RequireHvt();
    }

    [Theory]
    [InlineData(2u, "spt target")]
    [InlineData(3u, "virtio target")]
    [InlineData(4u, "muen target")]
    [InlineData(99u, "unknown (99) target")]
    public void Abi_note_for_another_target_is_refused_naming_it(uint target, string message)
    {
        var e = Assert.Throws<BootImageException>(() => Solo5AbiNote.Parse(Solo5Notes.AbiDescriptor(target, 1)).RequireHvt());
        Assert.Contains(message, e.Message);
        Assert.Contains("only hvt", e.Message);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]   // Solo5 v0.8.0 on (HVT_ABI_VERSION today)
    public void Abi_versions_1_and_2_are_accepted(uint version) =>
        Solo5AbiNote.Parse(Solo5Notes.AbiDescriptor(1, version)).RequireHvt();

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    public void Abi_note_with_another_version_is_refused(uint version)
    {
        var e = Assert.Throws<BootImageException>(() => Solo5AbiNote.Parse(Solo5Notes.AbiDescriptor(1, version)).RequireHvt());
        Assert.Contains($"hvt ABI version {version}", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(20)]
    public void Abi_note_of_the_wrong_size_is_refused(int size)
    {
        var e = Assert.Throws<BootImageException>(() => Solo5AbiNote.Parse(new byte[size]));
        Assert.Contains($"{size}-byte descriptor", e.Message);
    }

    [Fact]
    public void Manifest_entries_are_read_with_handles_in_order()
    {
        var m = Solo5Manifest.Parse(Solo5Notes.ManifestDescriptor(("disk0", 1), ("service", 2), ("a_b_9", 1)));
        Assert.Equal(4, m.Entries.Count);
        Assert.Equal(Solo5DeviceType.ReservedFirst, m.Entries[0].Type);
        Assert.Equal(
            [new(1, "disk0", Solo5DeviceType.BlockBasic), new(2, "service", Solo5DeviceType.NetBasic), new(3, "a_b_9", Solo5DeviceType.BlockBasic)],
            m.Devices.ToArray());
        Assert.Equal(8 + 4 * 104, m.Size);
    }

    [Fact]
    public void Manifest_with_only_the_reserved_entry_is_valid()
    {
        var m = Solo5Manifest.Parse(Solo5Notes.ManifestDescriptor());
        Assert.Single(m.Entries);
        Assert.Empty(m.Devices);
    }

    [Fact]
    public void Manifest_of_the_maximum_size_is_accepted()
    {
        var devices = Enumerable.Range(1, 63).Select(i => ($"d{i}", 1u)).ToArray();
        Assert.Equal(64, Solo5Manifest.Parse(Solo5Notes.ManifestDescriptor(devices)).Entries.Count);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    public void Wrong_manifest_version_is_refused(uint version)
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), version);
        AssertRefused(d, $"manifest version {version}");
    }

    [Fact]
    public void Too_many_entries_are_refused_even_when_the_note_claims_them()
    {
        // 65 entries declared, with bytes for all of them: over MFT_MAX_ENTRIES and over the note's maximum size.
        var devices = Enumerable.Range(1, 64).Select(i => ($"d{i}", 1u)).ToArray();
        AssertRefused(Solo5Notes.ManifestDescriptor(devices), "more than 64 entries");
        // 65 entries declared in a note sized for two.
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), 65);
        AssertRefused(d, "65 entries (at most 64)");
    }

    [Fact]
    public void Truncated_manifest_is_refused()
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1), ("net", 2));
        AssertRefused(d[..^104], "truncated: 3 entries need");
        AssertRefused(d[..^1], "truncated");
        // Too short for struct mft's header: solo5-hvt's words for a note smaller than its alignment padding.
        AssertRefused(d[..10], "note does not fall within valid size (10 bytes, truncated)");
        AssertRefused([], "note does not fall within valid size (0 bytes, truncated)");
    }

    [Fact]
    public void Manifest_with_trailing_bytes_is_refused()
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        AssertRefused([.. d, 0, 0, 0, 0], "where 2 entries take");
    }

    [Fact]
    public void Manifest_without_entries_is_refused()
    {
        var d = Solo5Notes.ManifestDescriptor()[..12];
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), 0);
        AssertRefused(d, "no entries");
    }

    [Fact]
    public void Entry_zero_must_be_the_reserved_entry()
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4 + 8 + 68), 1);
        AssertRefused(d, "entry 0 is not the reserved entry");
        d = Solo5Notes.ManifestDescriptor(("disk", 1));
        d[4 + 8] = (byte)'x';
        AssertRefused(d, "entry 0 is not the reserved entry");
    }

    [Fact]
    public void Unterminated_name_is_refused()
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        d.AsSpan(4 + 8 + 104, 68).Fill((byte)'a');
        AssertRefused(d, "entry 1: name is not NUL-terminated");
    }

    [Fact]
    public void Entry_marked_attached_in_the_image_is_refused()
    {
        var d = Solo5Notes.ManifestDescriptor(("disk", 1));
        d[4 + 8 + 104 + 96] = 1;
        AssertRefused(d, "marked attached");
    }

    [Theory]
    [InlineData("disk", 0u, "unknown device type 0")]
    [InlineData("disk", 3u, "unknown device type 3")]
    [InlineData("", 1u, "device name ''")]
    [InlineData("bad-name", 1u, "device name 'bad-name'")]
    [InlineData("sp ace", 2u, "device name 'sp ace'")]
    public void Bad_entries_are_refused(string name, uint type, string message) =>
        AssertRefused(Solo5Notes.ManifestDescriptor((name, type)), message);

    [Fact]
    public void Duplicate_device_names_are_refused() =>
        AssertRefused(Solo5Notes.ManifestDescriptor(("disk", 1), ("disk", 2)), "device 'disk' is declared twice");

    private static void AssertRefused(byte[] descriptor, string message)
    {
        var e = Assert.Throws<BootImageException>(() => Solo5Manifest.Parse(descriptor));
        Assert.StartsWith("invalid Solo5 manifest: ", e.Message);
        Assert.Contains(message, e.Message);
    }
}
