using Bhyve.Aot.Devices.Legacy;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Legacy;

/// <summary>DebugExit must match QEMU's isa-debug-exit: a write of v ends the VM with status (v &lt;&lt; 1) | 1.</summary>
public class DebugExitTests
{
    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(3UL, 7)]
    [InlineData(127UL, 255)]
    [InlineData(128UL, 1)]     // 257 truncated to 8 bits
    [InlineData(255UL, 255)]   // 511 truncated to 8 bits
    public void StatusFor_is_twice_plus_one_truncated_to_a_byte(ulong value, int status)
    {
        Assert.Equal(status, DebugExit.StatusFor(value));
        Assert.Equal((int)(((value << 1) | 1) & 0xFF), DebugExit.StatusFor(value));
    }

    [Fact]
    public void Every_status_is_odd_so_it_never_collides_with_a_VMM_outcome()
    {
        for (ulong v = 0; v < 1024; v++) Assert.Equal(1, DebugExit.StatusFor(v) & 1);
    }

    [Theory]
    [InlineData(new byte[] { 3 }, 7)]
    // 0x0201 little-endian -> 0x403 -> 0x03; big-endian would give 0x0102 -> 0x05.
    [InlineData(new byte[] { 0x01, 0x02 }, 0x03)]
    // 0x7F000080 little-endian -> 0x01; big-endian would give 0x8000007F -> 0xFF.
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x7F }, 0x01)]
    [InlineData(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, 0xFF)]
    public void Writes_assemble_the_value_little_endian(byte[] data, int status)
    {
        var statuses = new List<int>();
        var device = new DebugExit(statuses.Add);
        device.Write(0, data);
        Assert.Equal([status], statuses);
    }

    [Fact]
    public void Reads_are_all_ones_and_do_not_exit()
    {
        bool exited = false;
        var device = new DebugExit(_ => exited = true);
        byte[] data = [0, 0];
        device.Read(0, data);
        Assert.Equal([0xFF, 0xFF], data);
        Assert.False(exited);
    }
}
