using System.Buffers.Binary;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>What the loader leaves for the boot vCPU: where to start and where the start info is.</summary>
public readonly record struct PvhBoot(uint Entry, ulong StartInfoAddress, ulong KernelStart, ulong KernelEnd);

/// <summary>
/// Loads a PVH ELF image the way firmware would: PT_LOAD segments at their physical addresses, the
/// XEN_ELFNOTE_PHYS32_ENTRY note as the 32-bit entry point, and hvm_start_info with the memory map and command line.
/// </summary>
public static class PvhLoader
{
    public const uint XenElfNotePhys32Entry = 18;

    /// <summary>Checks an image against the guest RAM it would be loaded into, without touching that RAM.</summary>
    public static uint Validate(ElfImage image, ReadOnlySpan<byte> file, GuestMemory memory)
    {
        if (!image.TryFindNote(file, "Xen", XenElfNotePhys32Entry, out var desc))
            throw new BootImageException(
                $"no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY): this image cannot be booted with PVH; it is {KernelKinds.DescribeFound(image, file)}");
        ulong entry = desc.Length switch
        {
            4 => BinaryPrimitives.ReadUInt32LittleEndian(desc),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(desc),
            _ => throw new BootImageException($"PVH entry note has a {desc.Length}-byte value (expected 4 or 8)"),
        };
        if (entry > uint.MaxValue) throw new BootImageException($"PVH entry point 0x{entry:x} is above 4 GiB");

        bool entryLoaded = false;
        foreach (var s in image.Segments)
        {
            if (s.PhysicalAddress < GuestLayout.KernelMinimum)
                throw new BootImageException($"segment at 0x{s.PhysicalAddress:x} overlaps the reserved area below 1 MiB (boot data, legacy hole)");
            if (!memory.Contains(s.PhysicalAddress, s.MemorySize))
                throw new BootImageException($"segment 0x{s.PhysicalAddress:x}-0x{s.End:x} does not fit in guest RAM ({memory.TotalBytes >> 20} MiB)");
            if ((s.Flags & ElfSegment.Executable) != 0 && entry >= s.PhysicalAddress && entry < s.PhysicalAddress + s.FileSize)
                entryLoaded = true;
        }
        if (!entryLoaded) throw new BootImageException($"PVH entry point 0x{entry:x} is not inside an executable loaded segment");
        return (uint)entry;
    }

    public static PvhBoot Load(ReadOnlySpan<byte> file, GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap, string cmdline) =>
        Load(file, memory, memoryMap, cmdline, default);

    /// <summary>Loads the image; extras (initrd already in RAM, RSDP) are announced in hvm_start_info.</summary>
    public static PvhBoot Load(ReadOnlySpan<byte> file, GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap, string cmdline, in BootExtras extras)
    {
        var image = ElfImage.Parse(file);
        uint entry = Validate(image, file, memory);
        LoadSegments(image, file, memory);
        ulong startInfo = HvmStartInfo.Write(memory, GuestLayout.StartInfoAddress, memoryMap, GuestLayout.CmdlineAddress, cmdline, extras);
        return new PvhBoot(entry, startInfo, image.Segments[0].PhysicalAddress, image.Segments[^1].End);
    }

    /// <summary>Copies validated PT_LOAD segments to their physical addresses and zeroes their bss.</summary>
    internal static void LoadSegments(ElfImage image, ReadOnlySpan<byte> file, GuestMemory memory)
    {
        foreach (var s in image.Segments)
        {
            file.Slice((int)s.FileOffset, (int)s.FileSize).CopyTo(memory.GetSpan(s.PhysicalAddress, s.FileSize));
            // A bss may be larger than one span can cover: zero it a gigabyte at a time.
            for (ulong address = s.PhysicalAddress + s.FileSize, left = s.MemorySize - s.FileSize; left > 0;)
            {
                ulong chunk = Math.Min(left, GuestLayout.GiB);
                memory.GetSpan(address, chunk).Clear();
                address += chunk;
                left -= chunk;
            }
        }
    }
}
