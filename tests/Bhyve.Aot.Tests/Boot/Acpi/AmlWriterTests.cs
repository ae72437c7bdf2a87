using Bhyve.Aot.Boot.Acpi;
using Xunit;

namespace Bhyve.Aot.Tests.Boot.Acpi;

/// <summary>AmlWriter encodings against values worked out by hand from the ACPI spec (chapter 20) and iasl's output.</summary>
public class AmlWriterTests
{
    [Theory]
    [InlineData("PNP0A03", 0x030A_D041u)]
    [InlineData("PNP0A08", 0x080A_D041u)]
    [InlineData("PNP0501", 0x0105_D041u)]
    [InlineData("PNP0C02", 0x020C_D041u)]
    public void EisaId_compresses_like_ASL(string id, uint expected) => Assert.Equal(expected, AmlWriter.EisaId(id));

    [Theory]
    [InlineData("pnp0a03")]
    [InlineData("PNP0A0")]
    [InlineData("PNP0A0G")]
    public void Bad_EISA_ids_are_refused(string id) => Assert.Throws<ArgumentException>(() => AmlWriter.EisaId(id));

    [Theory]
    [InlineData(0, new byte[] { 0x01 })]
    [InlineData(62, new byte[] { 0x3F })]
    [InlineData(63, new byte[] { 0x41, 0x04 })]            // 63 + 2 = 65 = 0x41
    [InlineData(4000, new byte[] { 0x42, 0xFA })]          // 4002 = 0xFA2
    [InlineData(4094, new byte[] { 0x81, 0x00, 0x01 })]    // 4097 = 0x1001: needs two extra bytes
    public void PkgLength_counts_itself(int body, byte[] expected) => Assert.Equal(expected, AmlWriter.EncodePkgLength(body));

    [Theory]
    [InlineData(0ul, new byte[] { 0x00 })]
    [InlineData(1ul, new byte[] { 0x01 })]
    [InlineData(5ul, new byte[] { 0x0A, 0x05 })]
    [InlineData(0x1234ul, new byte[] { 0x0B, 0x34, 0x12 })]
    [InlineData(0xC000_0000ul, new byte[] { 0x0C, 0x00, 0x00, 0x00, 0xC0 })]
    [InlineData(0x1_0000_0000ul, new byte[] { 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 })]
    public void Integers_use_the_shortest_encoding(ulong value, byte[] expected) =>
        Assert.Equal(expected, new AmlWriter().Integer(value).ToArray());

    [Fact]
    public void A_device_with_a_name_is_encoded_as_iasl_would()
    {
        // Device (COM1) { Name (_UID, One) }  ->  5B 82 len "COM1" 08 "_UID" 01
        byte[] aml = new AmlWriter().Device("COM1", d => d.Name("_UID", 1)).ToArray();
        Assert.Equal(new byte[] { 0x5B, 0x82, 0x0B, (byte)'C', (byte)'O', (byte)'M', (byte)'1', 0x08, (byte)'_', (byte)'U', (byte)'I', (byte)'D', 0x01 }, aml);
    }

    [Fact]
    public void Root_names_and_packages()
    {
        // Name (\_S5, Package (0x02) { 0x05, Zero })  ->  08 5C "_S5_" 12 05 02 0A 05 00
        byte[] aml = new AmlWriter().NamePackage("\\_S5", 5, 0).ToArray();
        Assert.Equal(new byte[] { 0x08, 0x5C, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x05, 0x02, 0x0A, 0x05, 0x00 }, aml);
    }

    [Theory]
    [InlineData("")]
    [InlineData("TOOLONG")]
    [InlineData("a")]
    [InlineData("1ABC")]
    public void Bad_names_are_refused(string name) => Assert.Throws<ArgumentException>(() => new AmlWriter().Name(name, 0));
}
