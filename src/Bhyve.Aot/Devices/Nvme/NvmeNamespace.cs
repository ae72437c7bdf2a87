namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// The one namespace (NSID 1) of a controller: its format and what the backend really can do. Deallocate is
/// offered when Dsm says so; DeallocateZeroes only when deallocation really makes the range read as zeroes
/// (punch-hole on files; zero-out with unmap on devices), which is what DLFEAT promises the guest.
/// </summary>
public sealed record NvmeNamespace(ulong Blocks, int LbaShift, bool ReadOnly, bool Dsm, bool DeallocateWorks,
                                   bool WriteZeroes, string Serial)
{
    public const uint Id = 1;

    public uint BlockSize => 1u << LbaShift;

    /// <summary>Whether [slba, slba + count) lies inside the namespace; written so nothing can overflow.</summary>
    public bool InRange(ulong slba, ulong count) => slba <= Blocks && count <= Blocks - slba;

    /// <summary>
    /// Stable 16-byte NGUID and 8-byte EUI-64 derived from the serial (FNV-1a), so identifiers survive reboots and
    /// resets and differ between controllers with different serials (Linux merges namespaces with equal IDs).
    /// </summary>
    public void WriteIdentifiers(Span<byte> nguid, Span<byte> eui64)
    {
        ulong h1 = Fnv(Serial, 0xcbf29ce484222325UL), h2 = Fnv(Serial, 0x84222325cbf29ce4UL);
        for (int i = 0; i < 8; i++)
        {
            nguid[i] = (byte)(h1 >> (56 - 8 * i));
            nguid[8 + i] = (byte)(h2 >> (56 - 8 * i));
            eui64[i] = (byte)(h2 >> (56 - 8 * i));
        }
        // A locally administered EUI-64 (bit 1 of the first byte), never the all-zero "no identifier".
        eui64[0] = (byte)((eui64[0] & 0xFC) | 0x02);
        nguid[0] |= 0x02;
    }

    private static ulong Fnv(string text, ulong seed)
    {
        ulong h = seed;
        foreach (char c in text) { h ^= c; h *= 0x100000001b3UL; }
        h ^= (ulong)text.Length;
        return h * 0x100000001b3UL;
    }
}
