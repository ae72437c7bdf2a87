using Bhyve.Aot.Boot.Acpi;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot.Acpi;

/// <summary>
/// An independent reader checks our tables: ACPICA's disassembler (iasl -d, Debian package acpica-tools,
/// installed by `make test`) must parse each table without complaint and find what we meant to write.
/// </summary>
public sealed class AcpiIaslTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-acpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Iasl
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
                if (File.Exists(Path.Combine(dir, "iasl"))) return Path.Combine(dir, "iasl");
            throw new InvalidOperationException("iasl not found: `make test` installs it (apt-get install acpica-tools)");
        }
    }

    private async Task<string> Disassemble(string name, byte[] table)
    {
        string path = Path.Combine(_dir, name + ".dat");
        await File.WriteAllBytesAsync(path, table);
        var r = await ProcessRunner.RunAsync(Iasl, ["-d", path], TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, r.ToString());
        string all = r.Stdout + r.Stderr;
        Assert.DoesNotContain("Error", all);
        Assert.DoesNotContain("Invalid", all);
        return await File.ReadAllTextAsync(Path.ChangeExtension(path, ".dsl"));
    }

    private static void Has(string dsl, string expected) => Assert.True(dsl.Contains(expected), $"'{expected}' not in:\n{dsl}");

    [Fact]
    public async Task The_DSDT_disassembles_to_the_devices_we_declared()
    {
        string dsl = await Disassemble("dsdt", Dsdt.Build(AcpiTablesTests.Pc));
        Has(dsl, "Name (\\_S5, Package (0x02)");
        Has(dsl, "Device (PCI0)");
        Has(dsl, "Name (_HID, EisaId (\"PNP0A08\")");
        Has(dsl, "Name (_CID, EisaId (\"PNP0A03\")");
        Has(dsl, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,");
        Has(dsl, "0xC0000000,         // Range Minimum");
        Has(dsl, "0xDFFFFFFF,         // Range Maximum");
        Has(dsl, "Device (MRES)");
        Has(dsl, "Memory32Fixed (ReadWrite,");
        Has(dsl, "Device (COM1)");
        Has(dsl, "IRQNoFlags ()");
        // The power button: a Generic Event Device whose _EVT notifies a PNP0C0C device, as Linux's evged and button drivers expect.
        Has(dsl, "Device (GED0)");
        Has(dsl, "Name (_HID, \"ACPI0013\"");
        Has(dsl, "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )");
        Has(dsl, "0x00000010,");
        Has(dsl, "OperationRegion (GDST, SystemIO, 0x0604, One)");
        Has(dsl, "GDAT,   8");
        Has(dsl, "Method (_EVT, 1, Serialized)");
        Has(dsl, "If ((GDAT & One))");
        Has(dsl, "Notify (\\_SB.PWRB, 0x80)");
        Has(dsl, "Device (PWRB)");
        Has(dsl, "Name (_HID, EisaId (\"PNP0C0C\")");
    }

    [Fact]
    public async Task The_FADT_disassembles_as_hardware_reduced()
    {
        string dsl = await Disassemble("facp", Fadt.Build(0xE0200, AcpiTablesTests.Pc.Registers));
        Has(dsl, "Hardware Reduced (V5) : 1");
        Has(dsl, "Reset Register Supported (V2) : 1");
        Assert.Matches(@"Sleep Control Register[\s\S]*?Address : 0000000000000600", dsl);
        Assert.Matches(@"Sleep Status Register[\s\S]*?Address : 0000000000000601", dsl);
    }

    [Fact]
    public async Task The_MADT_and_MCFG_disassemble_with_our_entries()
    {
        string madt = await Disassemble("apic", Madt.Build(2, 9));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(madt, @"Subtable Type : 00 \[Processor Local APIC\]").Count);
        Has(madt, "Subtable Type : 01 [I/O APIC]");
        Has(madt, "Subtable Type : 02 [Interrupt Source Override]");
        string mcfg = await Disassemble("mcfg", Mcfg.Build(0xE000_0000, 0, 0, 255));
        Has(mcfg, "Base Address : 00000000E0000000");
        Has(mcfg, "End Bus Number : FF");
    }
}
