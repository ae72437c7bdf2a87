using System.Buffers.Binary;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>What the zero page tells a Linux kernel besides its own setup header.</summary>
public readonly record struct ZeroPageInputs(
    ulong CmdlineAddress,
    ulong InitrdAddress,
    ulong InitrdSize,
    ulong RsdpAddress,
    IReadOnlyList<MemoryMapEntry> MemoryMap);

/// <summary>
/// Writes Linux's struct boot_params (the "zero page", arch/x86/include/uapi/asm/bootparam.h): the setup
/// header copied from the bzImage (or a minimal one for a vmlinux), then the fields a boot loader fills in:
/// loader type, command line, initrd, e820 map, RSDP address.
/// </summary>
public static class ZeroPage
{
    public const int Size = 4096;
    public const int MaxE820Entries = 128;
    public const int E820EntrySize = 20;
    // boot_params offsets.
    internal const int AcpiRsdpAddr = 0x070, ExtRamdiskImage = 0x0C0, ExtRamdiskSize = 0x0C4, ExtCmdLinePtr = 0x0C8,
        E820Entries = 0x1E8, VidMode = 0x1FA, TypeOfLoader = 0x210, RamdiskImage = 0x218, RamdiskSize = 0x21C,
        CmdLinePtr = 0x228, E820Table = 0x2D0;
    /// <summary>type_of_loader 0xFF: "undefined" boot loader, what VMMs that load the kernel themselves use.</summary>
    public const byte UndefinedLoader = 0xFF;

    /// <summary>Fills the 4 KiB at address. setupHeader is the image's bytes from 0x1F1 to the header's end, or empty for a vmlinux.</summary>
    public static void Write(GuestMemory memory, ulong address, ReadOnlySpan<byte> setupHeader, in ZeroPageInputs inputs)
    {
        var map = inputs.MemoryMap;
        if (map.Count > MaxE820Entries) throw new ArgumentException($"{map.Count} memory map entries; the zero page holds {MaxE820Entries}");
        if (BzImage.SetupHeaderOffset + setupHeader.Length > E820Table) throw new ArgumentException("setup header overlaps the e820 table");
        var zp = memory.GetSpan(address, Size);
        zp.Clear();
        if (setupHeader.IsEmpty)
        {
            // A vmlinux has no header of its own: give it the signature fields the kernel checks.
            BinaryPrimitives.WriteUInt16LittleEndian(zp[BzImage.BootFlagOffset..], BzImage.BootFlag);
            BinaryPrimitives.WriteUInt32LittleEndian(zp[BzImage.Header..], BzImage.HeaderMagic);
            BinaryPrimitives.WriteUInt16LittleEndian(zp[BzImage.Version..], BzImage.MinimumVersion);
            zp[BzImage.LoadFlags] = BzImage.LoadedHigh;
        }
        else
        {
            setupHeader.CopyTo(zp[BzImage.SetupHeaderOffset..]);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(zp[VidMode..], 0xFFFF); // "normal" text mode: no video mode change
        zp[TypeOfLoader] = UndefinedLoader;
        Split(zp, CmdLinePtr, ExtCmdLinePtr, inputs.CmdlineAddress);
        Split(zp, RamdiskImage, ExtRamdiskImage, inputs.InitrdAddress);
        Split(zp, RamdiskSize, ExtRamdiskSize, inputs.InitrdSize);
        BinaryPrimitives.WriteUInt64LittleEndian(zp[AcpiRsdpAddr..], inputs.RsdpAddress);
        zp[E820Entries] = (byte)map.Count;
        for (int i = 0; i < map.Count; i++)
        {
            var e = zp.Slice(E820Table + i * E820EntrySize, E820EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(e, map[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], map[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)map[i].Type);
        }
    }

    /// <summary>A 64-bit value as the legacy low 32 bits plus the ext_* high 32 bits.</summary>
    private static void Split(Span<byte> zp, int low, int high, ulong value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(zp[low..], (uint)value);
        BinaryPrimitives.WriteUInt32LittleEndian(zp[high..], (uint)(value >> 32));
    }
}
