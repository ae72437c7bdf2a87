namespace Bhyve.Aot.Devices.Virtio.Blk;

/// <summary>The fixed facts about one disk that every queue of it shares.</summary>
public sealed record VirtioBlkDisk(ulong CapacitySectors, uint BlockSize, bool ReadOnly, bool Discard, bool WriteZeroes,
                                   bool WriteZeroesMayUnmap, string Serial)
{
    public const uint MaxDiscardSectors = 0x3F_FFFF;      // just under 2 GiB: results stay within an int
    public const uint MaxWriteZeroesSectors = 0x3F_FFFF;
    public const uint DiscardSectorAlignment = 8;        // 4 KiB, the granularity hole punching really has

    /// <summary>Whether [sector, sector + sectors) lies on the disk, without overflow.</summary>
    public bool InRange(ulong sector, ulong sectors) => sector <= CapacitySectors && sectors <= CapacitySectors - sector;
}
