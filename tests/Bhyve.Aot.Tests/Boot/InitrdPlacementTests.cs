using Bhyve.Aot.Boot;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

public class InitrdPlacementTests
{
    [Theory]
    [InlineData(0x1000ul, 0x200_0000ul, 0x1000_0000ul, 0xFFFF_FFFFul, 0xFFF_F000ul)]   // top of RAM
    [InlineData(0x1800ul, 0x200_0000ul, 0x1000_0000ul, 0xFFFF_FFFFul, 0xFFF_E000ul)]   // rounded down to a page
    [InlineData(0x1000ul, 0x200_0000ul, 0x1000_0000ul, 0x7FF_FFFFul, 0x7FF_F000ul)]    // initrd_addr_max is the last byte
    [InlineData(0x1000ul, 0x200_0000ul, 0x1000_0000ul, 0x7FF_F7FFul, 0x7FF_E000ul)]
    public void The_initrd_lies_as_high_as_allowed(ulong size, ulong kernelEnd, ulong ramEnd, ulong max, ulong expected) =>
        Assert.Equal(expected, InitrdPlacement.Choose(size, kernelEnd, ramEnd, max));

    [Theory]
    [InlineData(0x2000ul, 0xFFF_F000ul, 0x1000_0000ul, 0xFFFF_FFFFul)]  // would overlap the kernel
    [InlineData(0x2000_0000ul, 0x200_0000ul, 0x1000_0000ul, 0xFFFF_FFFFul)] // larger than RAM
    [InlineData(0x1000ul, 0x200_0000ul, 0x1000_0000ul, 0x100_0000ul)]   // max below the kernel
    public void Impossible_placements_are_refused(ulong size, ulong kernelEnd, ulong ramEnd, ulong max) =>
        Assert.Throws<BootImageException>(() => InitrdPlacement.Choose(size, kernelEnd, ramEnd, max));
}
