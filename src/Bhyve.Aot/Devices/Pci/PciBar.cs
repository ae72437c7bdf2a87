namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// One memory BAR: its size (a power of two, at least 4 KiB so it never shares a page) and whether it is
/// 64-bit. The address lives in the config space registers; PciDevice decodes it from there.
/// </summary>
public sealed record PciBar(int Index, ulong Size, bool Is64Bit, bool Prefetchable = false)
{
    public const uint MemoryType64 = 0x4, PrefetchableBit = 0x8;

    public uint TypeBits => (Is64Bit ? MemoryType64 : 0) | (Prefetchable ? PrefetchableBit : 0);

    public static void ValidateSize(ulong size)
    {
        if (size < 4096 || (size & (size - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(size), "a BAR is a power of two of at least 4 KiB");
    }
}
