using System.Buffers.Binary;
using System.Text;
using Bhyve.Aot.Boot.Acpi;
using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot.Acpi;

/// <summary>Each ACPI table: signature, length, revision, checksum, and the fields Linux reads, at their spec offsets.</summary>
public sealed class AcpiTablesTests : IDisposable
{
    private readonly FakeRam _ram = new(GuestLayout.MiB);

    public void Dispose() => _ram.Dispose();

    /// <summary>The description PcMachine gives the tables: 2 vCPUs, COM1, the power button.</summary>
    internal static readonly AcpiMachine Pc = Bhyve.Aot.Vmm.PcMachine.AcpiDescription(2, serial: true, powerButton: true);

    private static uint U32(byte[] t, int o) => BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(o));
    private static ulong U64(byte[] t, int o) => BinaryPrimitives.ReadUInt64LittleEndian(t.AsSpan(o));

    private static void AssertHeader(byte[] t, string signature, byte revision)
    {
        Assert.Equal(signature, Encoding.ASCII.GetString(t, 0, 4));
        Assert.Equal((uint)t.Length, U32(t, 4));
        Assert.Equal(revision, t[8]);
        Assert.Equal(0, AcpiTable.Sum(t));
        Assert.Equal("BHYVE ", Encoding.ASCII.GetString(t, 10, 6));
    }

    [Fact]
    public void Rsdp_has_both_checksums_and_points_at_the_xsdt()
    {
        byte[] r = Rsdp.Build(0xE0040);
        Assert.Equal("RSD PTR ", Encoding.ASCII.GetString(r, 0, 8));
        Assert.Equal(0, AcpiTable.Sum(r.AsSpan(0, 20)));
        Assert.Equal(0, AcpiTable.Sum(r));
        Assert.Equal(2, r[15]);
        Assert.Equal(36u, U32(r, 20));
        Assert.Equal(0xE0040ul, U64(r, 24));
    }

    [Fact]
    public void Xsdt_lists_64_bit_addresses()
    {
        byte[] t = Xsdt.Build([0x1111, 0x2222_0000_0000, 0x3333]);
        AssertHeader(t, "XSDT", 1);
        Assert.Equal(36 + 24, t.Length);
        Assert.Equal(0x2222_0000_0000ul, U64(t, 44));
    }

    [Fact]
    public void Fadt_is_hardware_reduced_with_sleep_and_reset_registers_on_our_ports()
    {
        byte[] t = Fadt.Build(0xE0200, Pc.Registers);
        AssertHeader(t, "FACP", 6);
        Assert.Equal(276, t.Length);
        Assert.Equal(0xE0200u, U32(t, 40));
        Assert.Equal(0xE0200ul, U64(t, 140));
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(46)));
        uint flags = U32(t, 112);
        Assert.NotEqual(0u, flags & Fadt.FlagHwReducedAcpi);
        Assert.NotEqual(0u, flags & Fadt.FlagResetRegSup);
        // IAPC_BOOT_ARCH must not say "MSI not supported" (bit 3): our devices only do MSI-X.
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(109)) & (1 << 3));
        // Generic addresses: system I/O, 8 bits, byte access, at our ports.
        AssertIoGas(t, 116, AcpiPorts.Base + AcpiPorts.ResetOffset);
        Assert.Equal(AcpiPorts.ResetValue, t[128]);
        AssertIoGas(t, 244, AcpiPorts.Base + AcpiPorts.SleepControlOffset);
        AssertIoGas(t, 256, AcpiPorts.Base + AcpiPorts.SleepStatusOffset);
        // No PM1 blocks, PM timer or GPEs to emulate.
        for (int o = 56; o < 88; o += 4) Assert.Equal(0u, U32(t, o));
    }

    private static void AssertIoGas(byte[] t, int o, int port)
    {
        Assert.Equal(1, t[o]);
        Assert.Equal(8, t[o + 1]);
        Assert.Equal(1, t[o + 3]);
        Assert.Equal((ulong)port, U64(t, o + 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(64)]
    public void Madt_has_one_enabled_local_APIC_per_vCPU_the_IOAPIC_and_the_SCI_override(int cpus)
    {
        byte[] t = Madt.Build(cpus, 9);
        AssertHeader(t, "APIC", 4);
        Assert.Equal(0xFEE0_0000u, U32(t, 36));
        var entries = new List<(byte Type, int Offset)>();
        for (int o = 44; o < t.Length; o += t[o + 1])
        {
            Assert.True(t[o + 1] >= 2, "an entry of length < 2 would loop forever");
            entries.Add((t[o], o));
        }
        var lapics = entries.Where(e => e.Type == 0).ToArray();
        Assert.Equal(cpus, lapics.Length);
        for (int i = 0; i < cpus; i++)
        {
            Assert.Equal(i, t[lapics[i].Offset + 3]); // APIC ID = vCPU index, as CPUID says
            Assert.Equal(1u, U32(t, lapics[i].Offset + 4));
        }
        var ioapic = Assert.Single(entries, e => e.Type == 1);
        Assert.Equal(0xFEC0_0000u, U32(t, ioapic.Offset + 4));
        Assert.Equal(0u, U32(t, ioapic.Offset + 8));
        var iso = Assert.Single(entries, e => e.Type == 2);
        Assert.Equal(9, t[iso.Offset + 3]);
        Assert.Equal(9u, U32(t, iso.Offset + 4));
        Assert.Equal(0x000D, BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(iso.Offset + 8)));
        Assert.Single(entries, e => e.Type == 4);
    }

    [Fact]
    public void Madt_refuses_more_CPUs_than_xAPIC_IDs() => Assert.Throws<ArgumentOutOfRangeException>(() => Madt.Build(256, 9));

    [Fact]
    public void Mcfg_describes_the_ECAM_window()
    {
        byte[] t = Mcfg.Build(GuestLayout.EcamStart, 0, 0, 255);
        AssertHeader(t, "MCFG", 1);
        Assert.Equal(60, t.Length);
        Assert.Equal(GuestLayout.EcamStart, U64(t, 44));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(52)));
        Assert.Equal(0, t[54]);
        Assert.Equal(255, t[55]);
    }

    [Fact]
    public void Dsdt_is_a_valid_table_whose_body_is_our_AML()
    {
        byte[] t = Dsdt.Build(Pc);
        AssertHeader(t, "DSDT", 2);
        // The names Linux looks for are in the AML stream.
        string text = Encoding.ASCII.GetString(t);
        foreach (var name in new[] { "_S5_", "_SB_", "PCI0", "_HID", "_CRS", "_SEG", "_BBN", "MRES", "COM1", "GED0", "ACPI0013", "_EVT", "PWRB" })
            Assert.Contains(name, text);
    }

    [Fact]
    public void Dsdt_declares_only_what_the_description_has()
    {
        string bare = Encoding.ASCII.GetString(Dsdt.Build(Pc with { Serial = [], PowerButton = null }));
        foreach (var absent in new[] { "COM1", "GED0", "PWRB", "ACPI0013" }) Assert.DoesNotContain(absent, bare);
        string twoUarts = Encoding.ASCII.GetString(Dsdt.Build(Pc with { Serial = [new AcpiSerialPort(0x3F8, 8, 4), new AcpiSerialPort(0x2F8, 8, 3)] }));
        Assert.Contains("COM1", twoUarts);
        Assert.Contains("COM2", twoUarts);
    }

    [Fact]
    public void Fadt_registers_come_from_the_description()
    {
        var moved = Pc.Registers with { SleepControlPort = 0x700, SleepStatusPort = 0x701, ResetPort = 0x702, ResetValue = 0x0E, SciIrq = 11 };
        byte[] t = Fadt.Build(0xE0200, moved);
        AssertIoGas(t, 244, 0x700);
        AssertIoGas(t, 256, 0x701);
        AssertIoGas(t, 116, 0x702);
        Assert.Equal(0x0E, t[128]);
        Assert.Equal(11, BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(46)));
    }

    [Fact]
    public void The_builder_lays_every_table_out_where_the_pointers_say()
    {
        var layout = AcpiBuilder.Write(_ram.Memory, Pc);
        Assert.Equal(GuestLayout.AcpiAddress, layout.Rsdp);
        Assert.True(layout.End <= GuestLayout.AcpiEnd);
        var ram = _ram.HostSpan(0, (int)GuestLayout.MiB);
        Assert.Equal(layout.Xsdt, BinaryPrimitives.ReadUInt64LittleEndian(ram[(int)(layout.Rsdp + 24)..]));
        var xsdt = ram.Slice((int)layout.Xsdt, 36 + 24);
        Assert.Equal(0, AcpiTable.Sum(xsdt));
        var pointed = new ulong[3];
        for (int i = 0; i < 3; i++) pointed[i] = BinaryPrimitives.ReadUInt64LittleEndian(xsdt[(36 + 8 * i)..]);
        Assert.Equal(new[] { layout.Fadt, layout.Madt, layout.Mcfg }, pointed);
        foreach (ulong at in pointed.Append(layout.Dsdt))
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(ram[(int)(at + 4)..]);
            Assert.Equal(0, AcpiTable.Sum(ram.Slice((int)at, length)));
            Assert.Equal(0ul, at % 16);
        }
        Assert.Equal(layout.Dsdt, BinaryPrimitives.ReadUInt64LittleEndian(ram[(int)(layout.Fadt + 140)..]));
        // The RSDP is where a legacy scan (16-byte steps over 0xE0000-0xFFFFF) finds it.
        Assert.Equal("RSD PTR ", Encoding.ASCII.GetString(ram.Slice(0xE0000, 8)));
    }

    [Fact]
    public void The_builder_refuses_an_area_too_small_for_the_tables() =>
        Assert.Throws<InvalidOperationException>(() => AcpiBuilder.Write(_ram.Memory, Pc, 0xE0000, 0xE0100));
}
