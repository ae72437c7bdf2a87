using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>Loads any kernel kind <see cref="KernelKinds.Detect"/> recognises, with an optional initrd and the ACPI RSDP.</summary>
public static class KernelLoader
{
    public static KernelBoot Load(KernelKind kind, ReadOnlySpan<byte> file, GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap,
        string cmdline, ReadOnlySpan<byte> initrd, ulong rsdpAddress)
    {
        switch (kind)
        {
            case KernelKind.PvhElf:
            {
                var image = ElfImage.Parse(file);
                PvhLoader.Validate(image, file, memory);
                var extras = LinuxLoader.PlaceInitrd(memory, initrd, image.Segments[^1].End, memory.GetRange(0).End, uint.MaxValue, rsdpAddress);
                var pvh = PvhLoader.Load(file, memory, memoryMap, cmdline, extras);
                return new KernelBoot(EntryMode.Pvh32, pvh.Entry, pvh.StartInfoAddress, pvh.KernelStart, pvh.KernelEnd, extras);
            }
            case KernelKind.LinuxElf:
                return LinuxLoader.LoadVmlinux(file, memory, memoryMap, cmdline, initrd, rsdpAddress);
            case KernelKind.BzImage:
                return LinuxLoader.LoadBzImage(file, memory, memoryMap, cmdline, initrd, rsdpAddress);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
