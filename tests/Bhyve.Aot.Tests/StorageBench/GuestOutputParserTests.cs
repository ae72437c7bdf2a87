using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class GuestOutputParserTests
{
    // A line storage-bench printed on QEMU (wrapped here only by the test's string concatenation).
    private const string Line = "result: dev=virtio-blk wl=randread bs=4096 qd=32 ops=4003 reads=4003 writes=0 flushes=0 discards=0 bytes=16396288 "
        + "cycles=1264842537 tsc_khz=2445404 lat_p50=2179072 lat_p90=27131904 lat_p99=79167488 lat_p999=117964800 lat_min=27807 lat_max=118564908 kicks=757";

    [Fact]
    public void Result_line_fields_are_read_exactly()
    {
        var r = GuestOutputParser.ParseResultLine(Line);
        Assert.Equal("virtio-blk", r.Device);
        Assert.Equal("randread", r.Workload);
        Assert.Equal(4096, r.BlockSize);
        Assert.Equal(32, r.QueueDepth);
        Assert.Equal(4003, r.Operations);
        Assert.Equal(4003, r.Reads);
        Assert.Equal(16396288, r.Bytes);
        Assert.Equal(1264842537, r.Cycles);
        Assert.Equal(2445404, r.TscKhz);
        Assert.Equal(2179072, r.P50Cycles);
        Assert.Equal(117964800, r.P999Cycles);
        Assert.Equal(118564908, r.MaxCycles);
        Assert.Equal(757, r.Doorbells);
    }

    [Fact]
    public void Cycles_become_seconds_iops_and_microseconds_with_the_tsc_frequency()
    {
        var m = GuestOutputParser.ParseResultLine(Line).ToMeasurement(2445404);
        double seconds = 1264842537 / 2445404000.0;
        Assert.Equal(seconds, m.Seconds, 9);
        Assert.Equal(4003 / seconds, m.Iops, 6);
        Assert.Equal(16396288 / seconds / (1 << 20), m.MiBPerSecond, 6);
        Assert.Equal(2179072 / 2445.404, m.Latency.P50, 6);
        Assert.Equal(79167488 / 2445.404, m.Latency.P99, 6);
    }

    [Fact]
    public void A_zero_tsc_frequency_is_refused_rather_than_dividing_by_it()
    {
        var r = GuestOutputParser.ParseResultLine(Line);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.ToMeasurement(0));
    }

    [Theory]
    [InlineData("result: dev=virtio-blk", "no wl=")]
    [InlineData("result: dev=x wl=randread bs=4096 qd=-1", "qd=-1")]
    [InlineData("result: dev=x junk", "'junk' is not key=value")]
    [InlineData("info: hello", "not a result line")]
    public void Malformed_lines_say_what_is_wrong(string line, string expected)
    {
        var e = Assert.Throws<FormatException>(() => GuestOutputParser.ParseResultLine(line));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_transcript_without_result_reports_the_guest_error()
    {
        var e = Assert.Throws<FormatException>(() => GuestOutputParser.ParseTranscript("info: nvme\nerror: unknown dev=nvme (virtio-blk or nvme)\n"));
        Assert.Equal("guest: unknown dev=nvme (virtio-blk or nvme)", e.Message);
        e = Assert.Throws<FormatException>(() => GuestOutputParser.ParseTranscript(""));
        Assert.Equal("guest printed nothing", e.Message);
    }

    [Fact]
    public void The_result_line_is_found_among_other_output()
    {
        var r = GuestOutputParser.ParseTranscript("info: virtio-blk capacity=1 bytes\r\n" + Line + "\r\n");
        Assert.Equal(4003, r.Operations);
    }
}
