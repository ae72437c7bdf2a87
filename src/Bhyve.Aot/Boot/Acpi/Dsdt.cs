using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The Differentiated System Description Table: AML for the devices that cannot be discovered.
/// <code>
/// \_S5   Package { 5, 0 }                 soft-off: the SLP_TYP AcpiPorts turns into a power-off
/// \_SB.PCI0  PNP0A08/PNP0A03, segment 0   the PCI host bridge: buses 0-255, I/O 0-0xCF7 and 0xD00-0xFFFF
///                                         forwarded, CF8-CFF decoded, the 32-bit MMIO window for BARs
/// \_SB.MRES  PNP0C02                      motherboard resources: the ECAM window MCFG points at
/// \_SB.COM1  PNP0501                      the UART at 0x3F8, IRQ 4
/// </code>
/// Revision 2: integers are 64 bits wide.
/// </summary>
public static class Dsdt
{
    public static byte[] Build()
    {
        var aml = new AmlWriter();
        aml.NamePackage("\\_S5", Devices.Legacy.AcpiPorts.S5SleepType, 0);
        aml.Scope("\\_SB", sb =>
        {
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
                    .DWordMemory((uint)GuestLayout.PciMmioWindowStart, (uint)(GuestLayout.PciMmioWindowStart + GuestLayout.PciMmioWindowSize - 1))
                    .ToArray());
            });
            sb.Device("MRES", d =>
            {
                d.Name("_HID", AmlWriter.EisaId("PNP0C02"));
                d.Name("_UID", 0);
                d.NameBuffer("_CRS", new ResourceTemplate()
                    .Memory32Fixed((uint)GuestLayout.EcamStart, (uint)GuestLayout.EcamSize)
                    .ToArray());
            });
            sb.Device("COM1", d =>
            {
                d.Name("_HID", AmlWriter.EisaId("PNP0501"));
                d.Name("_UID", 1);
                d.NameBuffer("_CRS", new ResourceTemplate()
                    .Io(Devices.Legacy.Uart8250.Com1Port, Devices.Legacy.Uart8250.Com1Port, 0, Devices.Legacy.Uart8250.PortCount)
                    .Irq(Devices.Legacy.Uart8250.Com1Irq)
                    .ToArray());
            });
        });
        byte[] body = aml.ToArray();
        var table = AcpiTable.Create("DSDT", AcpiTable.HeaderSize + body.Length, revision: 2);
        body.CopyTo(table, AcpiTable.HeaderSize);
        AcpiTable.Seal(table);
        return table;
    }
}
