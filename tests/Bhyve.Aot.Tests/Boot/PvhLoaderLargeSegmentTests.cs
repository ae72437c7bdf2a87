using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>
/// A PT_LOAD whose bss is over 2 GiB fits in a 3 GiB guest, but not in one Span: the loader must either load it
/// or refuse it as a BootImageException. Today GetSpan throws GuestMemoryException, which escapes RunCommand
/// as an unhandled exception with a stack trace and exit status 1.
/// </summary>
public class PvhLoaderLargeSegmentTests
{
    [Fact]
    public void Segment_larger_than_a_span_is_loaded_or_refused_as_a_boot_image_error()
    {
        const ulong ram = 3 * GuestLayout.GiB;
        var b = ElfBuilder.Bootable();
        b.Segments[1].MemorySize = 0x8100_0000; // 2 GiB + 16 MiB of bss
        using var memory = GuestMemory.Allocate(GuestLayout.RamRanges(ram));

        var error = Record.Exception(() => PvhLoader.Load(b.Build(), memory, GuestLayout.MemoryMap(ram), ""));

        if (error is null)
            Assert.Equal(0, memory.Read<byte>(b.Segments[1].PhysicalAddress + 0x8100_0000 - 1));
        else
            Assert.IsType<BootImageException>(error);
    }
}
