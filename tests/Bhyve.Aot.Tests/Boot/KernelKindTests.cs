using Bhyve.Aot.Boot;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>Kind detection by magic numbers and ELF notes, and the PVH path refusing an image that is another kind, saying which.</summary>
public class KernelKindTests
{
    [Fact]
    public void Solo5_hvt_image_is_detected() =>
        Assert.Equal(KernelKind.Solo5Hvt, KernelKinds.Detect(Solo5Notes.HvtImage().Build()));

    [Fact]
    public void PVH_image_is_detected() =>
        Assert.Equal(KernelKind.PvhElf, KernelKinds.Detect(ElfBuilder.Bootable().Build()));

    [Fact]
    public void ELF_without_PVH_or_Solo5_notes_is_a_plain_64_bit_ELF()
    {
        var b = ElfBuilder.Bootable();
        b.Segments.RemoveAll(s => s.Type == ElfBuilder.PtNote);
        Assert.Equal(KernelKind.LinuxElf, KernelKinds.Detect(b.Build()));
    }

    [Fact]
    public void Solo5_image_for_another_target_is_refused_naming_the_target()
    {
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(Solo5Notes.HvtImage(abiNote: Solo5Notes.AbiNote(target: 2)).Build()));
        Assert.Contains("Solo5 unikernel built for the spt target", e.Message);
    }

    [Fact]
    public void Solo5_ABI_note_without_a_manifest_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        b.Segments.RemoveAt(b.Segments.Count - 1);
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(b.Build()));
        Assert.Contains("without a manifest note", e.Message);
    }

    [Fact]
    public void Solo5_manifest_without_the_ABI_note_is_refused()
    {
        var b = Solo5Notes.HvtImage();
        b.Segments.RemoveAt(b.Segments.Count - 2);
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(b.Build()));
        Assert.Contains("without the Solo5 ABI note", e.Message);
    }

    [Fact]
    public void Solo5_note_with_another_name_is_not_a_Solo5_note()
    {
        // Only notes named exactly "Solo5" count, as in solo5-hvt's elf_load_note.
        var b = Solo5Notes.HvtImage(
            abiNote: ElfBuilder.Note("Solo6", 0x3149_4241, Solo5Notes.AbiDescriptor()),
            manifestNote: ElfBuilder.Note("Solo", 0x3154_464D, Solo5Notes.ManifestDescriptor()));
        Assert.Equal(KernelKind.LinuxElf, KernelKinds.Detect(b.Build()));
    }

    [Fact]
    public void PVH_loader_refuses_an_hvt_image_and_names_what_it_is()
    {
        byte[] file = Solo5Notes.HvtImage().Build();
        using var ram = new FakeRam(64 << 20);
        var e = Assert.Throws<BootImageException>(() => PvhLoader.Validate(ElfImage.Parse(file), file, ram.Memory));
        Assert.Contains("no PVH entry note", e.Message);
        Assert.Contains("it is a Solo5 hvt unikernel", e.Message);
    }

    [Fact]
    public void PVH_loader_refusal_names_a_foreign_Solo5_target()
    {
        byte[] file = Solo5Notes.HvtImage(abiNote: Solo5Notes.AbiNote(target: 3)).Build();
        using var ram = new FakeRam(64 << 20);
        var e = Assert.Throws<BootImageException>(() => PvhLoader.Validate(ElfImage.Parse(file), file, ram.Memory));
        Assert.Contains("virtio target", e.Message);
    }

    [Fact]
    public void A_PVH_note_wins_even_when_Linux_notes_are_there_too()
    {
        var b = ElfBuilder.Bootable();
        b.AddNote(ElfBuilder.Note("Linux", 0x100, [0, 0, 0, 0]));
        Assert.Equal(KernelKind.PvhElf, KernelKinds.Detect(b.Build()));
    }

    [Fact]
    public void A_bzImage_is_recognised_by_its_setup_header() =>
        Assert.Equal(KernelKind.BzImage, KernelKinds.Detect(new BzImageBuilder().Build()));

    [Fact]
    public void Unknown_bytes_are_refused()
    {
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(new byte[4096]));
        Assert.Contains("unknown kernel image kind", e.Message);
        Assert.Throws<BootImageException>(() => KernelKinds.Detect([]));
    }
}
