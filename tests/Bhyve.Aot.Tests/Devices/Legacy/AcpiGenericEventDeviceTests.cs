using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Tests.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Legacy;

/// <summary>The power button's Generic Event Device: a press sets bit 0 and raises the line; a read returns and clears it.</summary>
public class AcpiGenericEventDeviceTests
{
    [Fact]
    public void A_press_is_read_once_and_the_read_lowers_the_line()
    {
        var line = new RecordingLine();
        var ged = new AcpiGenericEventDevice(line);
        byte[] b = new byte[1];
        ged.Read(0, b);
        Assert.Equal(0, b[0]);

        ged.PressPowerButton();
        Assert.True(line.Level);
        ged.Read(0, b);
        Assert.Equal(AcpiGenericEventDevice.PowerButtonEvent, b[0]);
        Assert.False(line.Level);
        ged.Read(0, b);
        Assert.Equal(0, b[0]);
        Assert.Equal(1, ged.Presses);
    }

    [Fact]
    public void Writes_change_nothing()
    {
        var line = new RecordingLine();
        var ged = new AcpiGenericEventDevice(line);
        ged.PressPowerButton();
        ged.Write(0, [0xFF]);
        byte[] b = new byte[1];
        ged.Read(0, b);
        Assert.Equal(1, b[0]);
    }
}
