using Bhyve.Aot.Host;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

public class HostReportTextTests
{
    [Fact]
    public void HealthyReportEndsWithTheVerdict()
    {
        string text = HostReportText.Format(HostReport.From(HostFactsFixtures.Healthy()));
        Assert.Contains(HostVerdict.CanRunText, text);
        Assert.Contains("3000000 kHz (3000.000 MHz)", text);
        foreach (var section in new[] { "/dev/kvm", "KVM capabilities", "Smoke test", "CPU", "KVM module", "io_uring", "Verdict" })
            Assert.Contains(section + "\n", text);
    }

    [Fact]
    public void ItemLinesAreAlignedAndCarryAStatusWord()
    {
        string text = HostReportText.Format(HostReport.From(HostFactsFixtures.Healthy().WithCapability("IRQFD", 0)));
        string[] words = [HostReportText.Ok, HostReportText.Missing, HostReportText.Fail, HostReportText.Warn, HostReportText.Info];
        var items = text.Split('\n').TakeWhile(l => l != "Verdict").Where(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(items);
        int column = items[0].IndexOf(' ', 2) + items[0][items[0].IndexOf(' ', 2)..].TakeWhile(c => c == ' ').Count();
        foreach (var line in items)
            Assert.Contains(words, w => line.Length > column && line[column..].StartsWith(w, StringComparison.Ordinal));
        Assert.Contains(items, l => l.Contains("IRQFD") && l.Contains(HostReportText.Missing));
        Assert.Contains(HostVerdict.CannotRunText, text);
        Assert.Contains("    - KVM lacks the required capability KVM_CAP_IRQFD", text);
    }
}
