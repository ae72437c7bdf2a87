using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>
/// Where an initrd goes: as high as possible in the first RAM range (below the PCI hole), page aligned,
/// never above what the kernel says it can reach (initrd_addr_max) and never over the kernel itself.
/// High placement keeps it out of the way of the kernel's own early allocations and decompression.
/// </summary>
public static class InitrdPlacement
{
    public const ulong PageSize = 4096;

    /// <param name="size">initrd bytes (non-zero)</param>
    /// <param name="kernelEnd">first byte above everything the kernel occupies, including its init_size</param>
    /// <param name="ramEnd">end of the RAM range the initrd must lie in</param>
    /// <param name="maxLastByte">highest address the kernel accepts for the initrd's last byte</param>
    public static ulong Choose(ulong size, ulong kernelEnd, ulong ramEnd, ulong maxLastByte)
    {
        if (size == 0) throw new ArgumentOutOfRangeException(nameof(size));
        ulong top = Math.Min(ramEnd, maxLastByte == ulong.MaxValue ? ulong.MaxValue : maxLastByte + 1);
        ulong floor = ImageAddress.AlignUp(kernelEnd, PageSize, "kernel end rounded up to a page for the initrd");
        if (size > top || ((top - size) & ~(PageSize - 1)) < floor)
            throw new BootImageException(
                $"initrd of {size >> 20} MiB does not fit between the kernel's end (0x{kernelEnd:x}) and 0x{top:x}: give the guest more --memory");
        return (top - size) & ~(PageSize - 1);
    }
}
