namespace Bhyve.Aot.Boot;

/// <summary>What a loader announces to the kernel besides the image itself: the initrd (already in RAM) and the ACPI RSDP.</summary>
public readonly record struct BootExtras(ulong InitrdAddress, ulong InitrdSize, ulong RsdpAddress);
