using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>bhyve's `-c`: a count, or a count with a topology that must multiply out to it.</summary>
public class BhyveCpuOptionTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("4", 4)]
    [InlineData("cpus=8", 8)]
    [InlineData("4,sockets=2,cores=2", 4)]
    [InlineData("cpus=8,sockets=2,cores=2,threads=2", 8)]
    [InlineData("sockets=2,cores=4", 8)]         // no count: the product
    [InlineData("threads=2", 2)]
    [InlineData("64", VmConfig.MaxCpus)]
    public void Counts_and_topologies(string text, int cpus) => Assert.Equal(cpus, BhyveCpuOption.Parse(text));

    [Theory]
    [InlineData("0", "-c 0: '0' is not a CPU count (1..64)")]
    [InlineData("65", "'65' is not a CPU count")]
    [InlineData("two", "'two' is not a CPU count")]
    [InlineData("-1", "'-1' is not a CPU count")]
    [InlineData("cpus=0", "-c cpus=0: expected 1..64")]
    [InlineData("4,sockets=2", "2 socket(s) x 1 core(s) x 1 thread(s) is 2 CPUs, not 4")]
    [InlineData("sockets=8,cores=16", "128 CPUs is out of range")]
    [InlineData("4,dies=2", "-c: unknown option 'dies'")]
    [InlineData("", "-c: no CPU count given")]
    public void Refusals(string text, string message) =>
        Assert.Contains(message, Assert.Throws<ConfigException>(() => BhyveCpuOption.Parse(text)).Message);
}
