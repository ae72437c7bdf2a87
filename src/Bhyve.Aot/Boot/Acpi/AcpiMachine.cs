namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The machine the tables describe, as the VMM built it: the tables are written from this and from nothing else, so
/// a device the machine lacks is not declared and one it has is declared where it really sits.
/// </summary>
/// <param name="Cpus">vCPUs: one local APIC each, APIC ID = index.</param>
/// <param name="Registers">The hardware-reduced sleep and reset registers (FADT).</param>
/// <param name="Pci">The PCI host bridge's ECAM and BAR window (MCFG, DSDT PCI0 and MRES).</param>
/// <param name="Serial">The UARTs (DSDT PNP0501 devices), in COM order.</param>
/// <param name="PowerButton">The Generic Event Device behind the power button; null when the machine has none.</param>
public sealed record AcpiMachine(
    int Cpus,
    AcpiRegisters Registers,
    AcpiPciHost Pci,
    IReadOnlyList<AcpiSerialPort> Serial,
    AcpiPowerButton? PowerButton);

/// <summary>Byte-wide I/O ports of the sleep control, sleep status and reset registers; the reset value; \_S5's SLP_TYP; the SCI's ISA IRQ.</summary>
public sealed record AcpiRegisters(ushort SleepControlPort, ushort SleepStatusPort, ushort ResetPort, byte ResetValue, byte S5SleepType, byte SciIrq);

public sealed record AcpiPciHost(ulong EcamBase, ulong EcamSize, ulong MmioWindowStart, ulong MmioWindowSize);

public sealed record AcpiSerialPort(ushort Port, byte PortCount, byte Irq);

/// <summary>The GED's one-byte event register (bit 0: power button) and its level-triggered, active-high interrupt.</summary>
public sealed record AcpiPowerButton(ushort EventPort, uint Gsi, byte PowerButtonBit);
