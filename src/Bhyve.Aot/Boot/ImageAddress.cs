namespace Bhyve.Aot.Boot;

/// <summary>
/// Arithmetic on addresses and sizes that come out of an image file: every sum and round-up is checked, and one
/// that would pass 2^64 refuses the image (BootImageException, one line) instead of wrapping to a low address.
/// </summary>
internal static class ImageAddress
{
    /// <summary>address + size, or a refusal naming what was being computed.</summary>
    public static ulong End(ulong address, ulong size, string what) =>
        size <= ulong.MaxValue - address
            ? address + size
            : throw new BootImageException($"{what}: 0x{address:x} + 0x{size:x} is past the end of the 64-bit address space");

    /// <summary>value rounded up to alignment (a power of two, or 0/1 for none), or a refusal.</summary>
    public static ulong AlignUp(ulong value, ulong alignment, string what)
    {
        if (alignment <= 1) return value;
        ulong mask = alignment - 1;
        if (value > ulong.MaxValue - mask)
            throw new BootImageException($"{what}: 0x{value:x} rounded up to 0x{alignment:x} is past the end of the 64-bit address space");
        return (value + mask) & ~mask;
    }
}
