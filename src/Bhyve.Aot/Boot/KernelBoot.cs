namespace Bhyve.Aot.Boot;

/// <summary>How the boot CPU enters the kernel.</summary>
public enum EntryMode
{
    /// <summary>32-bit protected mode, paging off, EBX = hvm_start_info (PVH).</summary>
    Pvh32,
    /// <summary>64-bit long mode, identity-mapped 4 GiB, RSI = zero page (Linux 64-bit boot protocol).</summary>
    Linux64,
}

/// <summary>What a loader leaves for the boot vCPU: the entry, its boot structure (start info or zero page), what the kernel occupies, the initrd.</summary>
public readonly record struct KernelBoot(EntryMode Mode, ulong Entry, ulong BootData, ulong KernelStart, ulong KernelEnd, BootExtras Extras);
