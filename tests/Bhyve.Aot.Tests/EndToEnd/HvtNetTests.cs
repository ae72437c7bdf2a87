using System.Net;
using System.Net.Sockets;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// hvt-net on a real tap interface: the guest's frame reaches the host (the tap's rx counters), and a frame the host
/// sends (ARP requests, provoked by UDP to absent neighbours on the tap's subnet) reaches the guest through poll and
/// net read. Needs root and /dev/net/tun, as `make test` has; without them the test fails and says so.
/// </summary>
public sealed class HvtNetTests : IAsyncLifetime
{
    private readonly string _tap = $"bhvt{Environment.ProcessId % 100000}";
    private readonly int _subnet = 100 + Environment.ProcessId % 150;

    public async Task InitializeAsync()
    {
        await Ip("tuntap", "add", "dev", _tap, "mode", "tap");
        await Ip("link", "set", _tap, "up");
        await Ip("addr", "add", $"10.199.{_subnet}.1/24", "dev", _tap);
    }

    public async Task DisposeAsync() => await ProcessRunner.RunAsync("ip", ["tuntap", "del", "dev", _tap, "mode", "tap"]);

    private static async Task Ip(params string[] args)
    {
        var r = await ProcessRunner.RunAsync("ip", args);
        Assert.True(r.ExitCode == 0, $"cannot set up a tap interface for the hvt network test (needs root and /dev/net/tun): ip {string.Join(' ', args)}\n{r}");
    }

    private ulong Counter(string name) => ulong.Parse(File.ReadAllText($"/sys/class/net/{_tap}/statistics/{name}").Trim());

    [Fact]
    public async Task Frames_go_both_ways_between_the_guest_and_the_tap()
    {
        ulong rxBefore = Counter("rx_packets"), bytesBefore = Counter("rx_bytes");
        var run = ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-net.elf"), "--net-device", $"service={_tap}");
        using (var udp = new UdpClient(AddressFamily.InterNetwork))
        {
            // Each new neighbour costs the kernel one ARP request on the tap: a frame for the guest to read.
            for (int host = 2; !run.IsCompleted && host < 250; host++)
            {
                try { udp.Send([1], 1, new IPEndPoint(IPAddress.Parse($"10.199.{_subnet}.{host}"), 9)); }
                catch (SocketException) { }
                await Task.WhenAny(run, Task.Delay(50));
            }
        }
        var r = await run;

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"^net: mac ([0-9a-f][26ae]):([0-9a-f]{2}:){4}[0-9a-f]{2} mtu 1500\nnet: sent 60 bytes\nnet: received \d+ bytes, ethertype 0x(0806|86dd)\n$", r.Stdout);
        Assert.True(Counter("rx_packets") >= rxBefore + 1, "the guest's frame did not reach the tap");
        Assert.True(Counter("rx_bytes") >= bytesBefore + 60);
    }

    [Fact]
    public async Task A_tap_that_cannot_be_attached_is_refused()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-net.elf"), "--net-device", "service=no/such/tap");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--net-device service=no/such/tap: 'no/such/tap' is not a network interface name", Assert.Single(r.StderrLines));
    }
}
