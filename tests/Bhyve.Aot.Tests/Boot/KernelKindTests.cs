using Bhyve.Aot.Boot;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>KernelKinds.Detect: magic numbers and notes pick the loader; anything else gets a message naming what was expected.</summary>
public class KernelKindTests
{
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
    public void An_ELF_with_neither_note_is_refused()
    {
        var b = ElfBuilder.Bootable();
        b.Segments.RemoveAll(s => s.Type == ElfBuilder.PtNote);
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(b.Build()));
        Assert.Contains("no PVH entry note", e.Message);
    }

    [Fact]
    public void Unknown_bytes_are_refused()
    {
        var e = Assert.Throws<BootImageException>(() => KernelKinds.Detect(new byte[4096]));
        Assert.Contains("unknown kernel image kind", e.Message);
        Assert.Throws<BootImageException>(() => KernelKinds.Detect([]));
    }
}
