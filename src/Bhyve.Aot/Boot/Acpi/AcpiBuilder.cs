using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>Where the tables went: the RSDP address is what the kernel is told (zero page, hvm_start_info).</summary>
public readonly record struct AcpiLayout(ulong Rsdp, ulong Xsdt, ulong Fadt, ulong Madt, ulong Mcfg, ulong Dsdt, ulong End);

/// <summary>
/// Lays the ACPI tables out in guest RAM at <see cref="GuestLayout.AcpiAddress"/> (inside the reserved BIOS
/// area, where a legacy scan for "RSD PTR " also finds the RSDP): RSDP, XSDT, FADT, MADT, MCFG, DSDT, each
/// 16-byte aligned, each with its checksum.
/// </summary>
public static class AcpiBuilder
{
    public static AcpiLayout Write(GuestMemory memory, AcpiMachine machine, ulong address = GuestLayout.AcpiAddress, ulong end = GuestLayout.AcpiEnd)
    {
        byte[] dsdt = Dsdt.Build(machine);
        byte[] madt = Madt.Build(machine.Cpus, machine.Registers.SciIrq);
        byte[] mcfg = Mcfg.Build(machine.Pci.EcamBase, 0, 0, (byte)(machine.Pci.EcamSize / GuestLayout.MiB - 1));
        ulong rsdpAt = address;
        ulong xsdtAt = Align(rsdpAt + Rsdp.Size);
        ulong fadtAt = Align(xsdtAt + AcpiTable.HeaderSize + 3 * 8);
        ulong madtAt = Align(fadtAt + Fadt.Size);
        ulong mcfgAt = Align(madtAt + (ulong)madt.Length);
        ulong dsdtAt = Align(mcfgAt + (ulong)mcfg.Length);
        ulong tablesEnd = dsdtAt + (ulong)dsdt.Length;
        if (tablesEnd > end) throw new InvalidOperationException($"ACPI tables need 0x{tablesEnd - address:x} bytes; 0x{end - address:x} are set aside");

        Put(memory, rsdpAt, Rsdp.Build(xsdtAt));
        Put(memory, xsdtAt, Xsdt.Build([fadtAt, madtAt, mcfgAt]));
        Put(memory, fadtAt, Fadt.Build(dsdtAt, machine.Registers));
        Put(memory, madtAt, madt);
        Put(memory, mcfgAt, mcfg);
        Put(memory, dsdtAt, dsdt);
        return new AcpiLayout(rsdpAt, xsdtAt, fadtAt, madtAt, mcfgAt, dsdtAt, tablesEnd);
    }

    private static ulong Align(ulong a) => (a + 15) & ~15UL;

    private static void Put(GuestMemory memory, ulong address, byte[] table) => table.CopyTo(memory.GetSpan(address, (ulong)table.Length));
}
