using Bhyve.Aot.Devices.Runtime;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Runtime;

public sealed class DeviceFaultLogTests
{
    [Fact]
    public void Prints_one_line_naming_the_device_then_holds_back_and_counts_the_rest()
    {
        var output = new StringWriter();
        var log = new DeviceFaultLog(output, TimeSpan.FromMilliseconds(300));
        log.Report("virtio-blk queue 0", "io_uring_enter: Cannot allocate memory");
        for (int i = 0; i < 5; i++) log.Report("nvme", "again");
        Assert.Equal(6, log.Total);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("bhyve-aot: virtio-blk queue 0 failed and stopped until the guest resets it: io_uring_enter: Cannot allocate memory", Assert.Single(lines));
        Thread.Sleep(350);
        log.Report("nvme", "later");
        lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("bhyve-aot: nvme failed and stopped until the guest resets it: later (5 more device failures not shown)", lines[1]);
    }
}
