using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>The ABI targets a Solo5 "ABI1" note names (enum abi_target in Solo5's elf_abi.h).</summary>
public enum Solo5Target : uint
{
    Hvt = 1,
    Spt = 2,
    Virtio = 3,
    Muen = 4,
    Genode = 5,
}

/// <summary>
/// The Solo5 "ABI1" note (name "Solo5", type 0x31494241): which tender an executable was built for and the ABI
/// version it expects. Descriptor: u32 target, u32 version, two reserved u32 (struct abi1_info, 4-byte aligned).
/// </summary>
public readonly record struct Solo5AbiNote(uint Target, uint Version)
{
    public const string NoteName = "Solo5";
    public const uint NoteType = 0x3149_4241; // "ABI1"
    public const int DescriptorSize = 16;
    /// <summary>
    /// The hvt ABI versions of Solo5's hvt_abi.h this tender implements: 1 (Solo5 up to v0.7.x) and 2 (v0.8.0 on,
    /// HVT_ABI_VERSION today). The tender's side differs only in struct hvt_boot_info (see HvtLayout.BootInfoSize).
    /// </summary>
    public const uint MinHvtVersion = 1, MaxHvtVersion = 2;

    public static Solo5AbiNote Parse(ReadOnlySpan<byte> descriptor)
    {
        // Solo5 reads exactly sizeof(struct abi1_info); a shorter descriptor is a truncated note, a longer one a foreign layout.
        if (descriptor.Length != DescriptorSize)
            throw new BootImageException($"Solo5 ABI note has a {descriptor.Length}-byte descriptor (expected {DescriptorSize})");
        return new Solo5AbiNote(BinaryPrimitives.ReadUInt32LittleEndian(descriptor), BinaryPrimitives.ReadUInt32LittleEndian(descriptor[4..]));
    }

    public string TargetName => Target switch
    {
        (uint)Solo5Target.Hvt => "hvt",
        (uint)Solo5Target.Spt => "spt",
        (uint)Solo5Target.Virtio => "virtio",
        (uint)Solo5Target.Muen => "muen",
        (uint)Solo5Target.Genode => "genode",
        _ => $"unknown ({Target})",
    };

    /// <summary>Throws unless this is an hvt executable of the ABI version we implement.</summary>
    public void RequireHvt()
    {
        if (Target != (uint)Solo5Target.Hvt)
            throw new BootImageException($"a Solo5 unikernel built for the {TargetName} target: bhyve-aot runs only hvt unikernels (solo5-hvt)");
        if (Version is < MinHvtVersion or > MaxHvtVersion)
            throw new BootImageException($"a Solo5 hvt unikernel that requests hvt ABI version {Version}: bhyve-aot implements versions {MinHvtVersion} and {MaxHvtVersion}");
    }
}
