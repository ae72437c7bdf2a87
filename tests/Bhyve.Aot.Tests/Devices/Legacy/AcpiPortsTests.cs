using Bhyve.Aot.Devices.Legacy;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Legacy;

/// <summary>The ACPI sleep control, sleep status and reset registers, and the i8042 reset command.</summary>
public class AcpiPortsTests
{
    private readonly List<AcpiRequest> _requests = [];
    private AcpiPorts Ports() => new(_requests.Add);

    [Fact]
    public void SLP_EN_with_the_S5_type_powers_off()
    {
        // What Linux's acpi_hw_extended_sleep writes: (SLP_TYP << 2) | SLP_EN.
        Ports().Write(AcpiPorts.SleepControlOffset, [(5 << 2) | 0x20]);
        Assert.Equal([AcpiRequest.PowerOff], _requests);
    }

    [Theory]
    [InlineData(5 << 2)]            // S5 type without SLP_EN: only a preparation
    [InlineData((3 << 2) | 0x20)]   // S3: not offered
    [InlineData((1 << 2) | 0x20)]   // S1
    [InlineData(0xFF & ~0x1C)]      // SLP_EN with type 0
    public void Other_sleep_writes_do_nothing(int value)
    {
        Ports().Write(AcpiPorts.SleepControlOffset, [(byte)value]);
        Assert.Empty(_requests);
    }

    [Fact]
    public void The_reset_value_resets_and_nothing_else_does()
    {
        var p = Ports();
        p.Write(AcpiPorts.ResetOffset, [0x06]);
        p.Write(AcpiPorts.ResetOffset, [0x00]);
        Assert.Empty(_requests);
        p.Write(AcpiPorts.ResetOffset, [AcpiPorts.ResetValue]);
        Assert.Equal([AcpiRequest.Reset], _requests);
    }

    [Fact]
    public void Sleep_status_reads_wake_status_and_the_others_read_zero()
    {
        var p = Ports();
        Span<byte> b = stackalloc byte[1];
        p.Read(AcpiPorts.SleepStatusOffset, b);
        Assert.Equal(0x80, b[0]);
        p.Read(AcpiPorts.SleepControlOffset, b);
        Assert.Equal(0, b[0]);
        p.Write(AcpiPorts.SleepStatusOffset, [0xFF]);
        Assert.Empty(_requests);
    }

    [Fact]
    public void The_keyboard_controller_resets_on_0xFE_only()
    {
        int resets = 0;
        var kbc = new KeyboardControllerReset(() => resets++);
        Span<byte> status = stackalloc byte[1];
        kbc.Read(0, status);
        Assert.Equal(0, status[0]); // input buffer empty: a guest waiting to send a command moves on
        kbc.Write(0, [0xAD]);
        Assert.Equal(0, resets);
        kbc.Write(0, [0xFE]);
        Assert.Equal(1, resets);
    }
}
