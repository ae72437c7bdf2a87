using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>
/// The identity page tables solo5-hvt builds (hvt_x86_setup_pagetables): PML4 -> one PDPT with four entries ->
/// four page directories of 2 MiB pages covering RAM, except that the first 2 MiB are mapped through PT0 in 4 KiB
/// pages: nothing below 0x10000 (the zero page, GDT and these tables), 0x10000-0xFFFFF present but read-only (the
/// boot info, manifest and command line), 1 MiB-2 MiB writable. With CR0.WP set (HvtLoader) the guest's own CPL0
/// code faults on a null pointer or a write to what the tender gave it, as under solo5-hvt.
/// </summary>
public static class HvtPageTables
{
    public const ulong Present = 1, Writable = 2, Large = 1 << 7;

    /// <summary>Bytes from Pml4Address the tables take (PML4, PDPT, four PDs, PT0).</summary>
    public const ulong Size = HvtLayout.Pt0Address + HvtLayout.PageSize - HvtLayout.Pml4Address;

    public static void Write(GuestMemory memory, ulong ramBytes)
    {
        if (HvtLayout.CheckRamSize(ramBytes) is { } problem) throw new ArgumentOutOfRangeException(nameof(ramBytes), problem);
        memory.GetSpan(HvtLayout.Pml4Address, Size).Clear();
        memory.Write(HvtLayout.Pml4Address, HvtLayout.PdptAddress | Present | Writable);
        for (ulong i = 0; i < HvtLayout.PageDirectories; i++)
            memory.Write(HvtLayout.PdptAddress + i * 8, (HvtLayout.PdAddress + i * HvtLayout.PageSize) | Present | Writable);

        memory.Write(HvtLayout.PdAddress, HvtLayout.Pt0Address | Present | Writable);
        for (ulong page = HvtLayout.Pt0MapStart; page < HvtLayout.RamAlignment; page += HvtLayout.PageSize)
        {
            ulong flags = page < HvtLayout.GuestMinBase ? Present : Present | Writable;
            memory.Write(HvtLayout.Pt0Address + page / HvtLayout.PageSize * 8, page | flags);
        }
        // The PDs are consecutive pages, so entry n of the whole run maps [n * 2 MiB, (n + 1) * 2 MiB).
        for (ulong address = HvtLayout.RamAlignment; address < ramBytes; address += HvtLayout.RamAlignment)
            memory.Write(HvtLayout.PdAddress + address / HvtLayout.RamAlignment * 8, address | Present | Writable | Large);
    }
}
