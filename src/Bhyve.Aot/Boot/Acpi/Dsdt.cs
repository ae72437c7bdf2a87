namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The Differentiated System Description Table: AML for the devices of <see cref="AcpiMachine"/> that cannot be discovered.
/// <code>
/// \_S5   Package { S5, 0 }                soft-off: the SLP_TYP the sleep control register turns into a power-off
/// \_SB.PCI0  PNP0A08/PNP0A03, segment 0   the PCI host bridge: buses 0-255, I/O 0-0xCF7 and 0xD00-0xFFFF
///                                         forwarded, CF8-CFF decoded, the 32-bit MMIO window for BARs
/// \_SB.MRES  PNP0C02                      motherboard resources: the ECAM window MCFG points at
/// \_SB.COMn  PNP0501                      each UART, its ports and IRQ
/// \_SB.GED0  ACPI0013                     the Generic Event Device: an interrupt, an event register, and _EVT,
///                                         which reads the register and, for the power-button bit, does
///                                         Notify(\_SB.PWRB, 0x80) (ACPI 6.x 5.6.9 and 4.8.2.2.1.3)
/// \_SB.PWRB  PNP0C0C                      the control-method power button
/// </code>
/// Revision 2: integers are 64 bits wide.
/// </summary>
public static class Dsdt
{
    /// <summary>Notify value of a power button: "the button was pressed" (ACPI 6.x 5.6.6, table 5.187).</summary>
    public const byte PowerButtonPressed = 0x80;

    public static byte[] Build(AcpiMachine machine)
    {
        var aml = new AmlWriter();
        aml.NamePackage("\\_S5", machine.Registers.S5SleepType, 0);
        aml.Scope("\\_SB", sb =>
        {
            var pci = machine.Pci;
            sb.Device("PCI0", d =>
            {
                d.Name("_HID", AmlWriter.EisaId("PNP0A08"));
                d.Name("_CID", AmlWriter.EisaId("PNP0A03"));
                d.Name("_SEG", 0);
                d.Name("_BBN", 0);
                d.Name("_UID", 0);
                d.NameBuffer("_CRS", new ResourceTemplate()
                    .WordBusNumber(0, 0xFF)
                    .Io(0xCF8, 0xCF8, 1, 8)
                    .WordIo(0x0000, 0x0CF7)
                    .WordIo(0x0D00, 0xFFFF)
                    .DWordMemory((uint)pci.MmioWindowStart, (uint)(pci.MmioWindowStart + pci.MmioWindowSize - 1))
                    .ToArray());
            });
            sb.Device("MRES", d =>
            {
                d.Name("_HID", AmlWriter.EisaId("PNP0C02"));
                d.Name("_UID", 0);
                d.NameBuffer("_CRS", new ResourceTemplate()
                    .Memory32Fixed((uint)pci.EcamBase, (uint)pci.EcamSize)
                    .ToArray());
            });
            for (int i = 0; i < machine.Serial.Count; i++)
            {
                var uart = machine.Serial[i];
                sb.Device($"COM{i + 1}", d =>
                {
                    d.Name("_HID", AmlWriter.EisaId("PNP0501"));
                    d.Name("_UID", (ulong)(i + 1));
                    d.NameBuffer("_CRS", new ResourceTemplate()
                        .Io(uart.Port, uart.Port, 0, uart.PortCount)
                        .Irq(uart.Irq)
                        .ToArray());
                });
            }
            if (machine.PowerButton is { } button)
            {
                sb.Device("GED0", d =>
                {
                    d.Name("_HID", "ACPI0013");
                    d.Name("_UID", 0);
                    d.NameBuffer("_CRS", new ResourceTemplate().ExtendedInterruptLevelHigh(button.Gsi).ToArray());
                    d.SystemIoRegion("GDST", button.EventPort, 1);
                    d.ByteField("GDST", "GDAT");
                    // Reading GDAT returns and clears the pending events (and lowers the interrupt line).
                    d.SerializedMethod("_EVT", 1, m => m.IfAnyBit("GDAT", button.PowerButtonBit, then => then.Notify("\\_SB.PWRB", PowerButtonPressed)));
                });
                sb.Device("PWRB", d =>
                {
                    d.Name("_HID", AmlWriter.EisaId("PNP0C0C"));
                    d.Name("_UID", 0);
                });
            }
        });
        byte[] body = aml.ToArray();
        var table = AcpiTable.Create("DSDT", AcpiTable.HeaderSize + body.Length, revision: 2);
        body.CopyTo(table, AcpiTable.HeaderSize);
        AcpiTable.Seal(table);
        return table;
    }
}
