using System.Buffers.Binary;
using Bhyve.Aot.Boot.Solo5;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// Solo5 note descriptors written field by field from mft_abi.h / elf_abi.h (x86-64 layout), and hvt images
/// built on <see cref="ElfBuilder"/>, so every note check can be driven from a good note with one thing changed.
/// </summary>
internal static class Solo5Notes
{
    public static byte[] AbiDescriptor(uint target = 1, uint version = 1)
    {
        var d = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(d, target);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), version);
        return d;
    }

    public static byte[] AbiNote(uint target = 1, uint version = 1) =>
        ElfBuilder.Note("Solo5", Solo5AbiNote.NoteType, AbiDescriptor(target, version));

    /// <summary>A manifest descriptor: 4 bytes of alignment padding, struct mft, the reserved entry 0, then the devices.</summary>
    public static byte[] ManifestDescriptor(params (string Name, uint Type)[] devices)
    {
        int count = devices.Length + 1;
        var d = new byte[4 + 8 + count * 104];
        var m = d.AsSpan(4);
        BinaryPrimitives.WriteUInt32LittleEndian(m, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(m[4..], (uint)count);
        BinaryPrimitives.WriteUInt32LittleEndian(m[(8 + 68)..], 1u << 30);
        for (int i = 0; i < devices.Length; i++)
        {
            var e = m.Slice(8 + (i + 1) * 104, 104);
            System.Text.Encoding.ASCII.GetBytes(devices[i].Name).CopyTo(e);
            BinaryPrimitives.WriteUInt32LittleEndian(e[68..], devices[i].Type);
        }
        return d;
    }

    public static byte[] ManifestNote(byte[] descriptor) => ElfBuilder.Note("Solo5", Solo5Manifest.NoteType, descriptor);

    /// <summary>An hvt image in the shape of native/guest/hvt's: R+X text, R rodata, R+W data, the two notes in PT_NOTEs.</summary>
    public static ElfBuilder HvtImage(byte[]? abiNote = null, byte[]? manifestNote = null)
    {
        var b = new ElfBuilder { Entry = ElfBuilder.KernelBase };
        b.AddLoad(ElfBuilder.KernelBase, ElfBuilder.Pattern(0x300, 0x21), 0x300, ElfBuilder.PfR | ElfBuilder.PfX);
        b.AddLoad(ElfBuilder.KernelBase + 0x1000, ElfBuilder.Pattern(0x80, 0x31), 0x80, ElfBuilder.PfR);
        b.AddLoad(ElfBuilder.KernelBase + 0x2000, ElfBuilder.Pattern(0x40, 0x41), 0x3000, ElfBuilder.PfR | ElfBuilder.PfW);
        b.AddNote(abiNote ?? AbiNote());
        b.AddNote(manifestNote ?? ManifestNote(ManifestDescriptor(("storage", 1))));
        return b;
    }
}
