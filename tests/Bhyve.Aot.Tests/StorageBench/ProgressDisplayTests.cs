using Bhyve.Aot.StorageBench;
using Xunit;

namespace Bhyve.Aot.Tests.StorageBench;

public sealed class ProgressDisplayTests
{
    [Fact]
    public void Not_on_a_terminal_each_step_is_a_line()
    {
        var w = new StringWriter();
        var p = new ProgressDisplay(w, interactive: false, totalSteps: 12);
        p.Begin("4k-randread-qd1  host  round 1/1");
        p.Note("qemu nvme: not available (x)");
        p.Begin("next");
        p.Finish();
        Assert.Equal("[  1/12] 4k-randread-qd1  host  round 1/1\nqemu nvme: not available (x)\n[  2/12] next\n", w.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void On_a_terminal_the_line_is_rewritten_in_place_and_cleared()
    {
        var w = new StringWriter();
        var p = new ProgressDisplay(w, interactive: true, totalSteps: 2);
        p.Begin("a long step");
        p.Begin("b");
        p.Finish();
        string s = w.ToString();
        Assert.StartsWith("\r[  1/2] a long step\r[  2/2] b", s);
        Assert.DoesNotContain("\n", s);
        Assert.EndsWith("\r", s);
        Assert.Equal(2, p.Step);
    }
}
