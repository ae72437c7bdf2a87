using Bhyve.Aot.Memory;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>VmConfig.Validate: each bad user value gives a ConfigException with one sentence naming the option.</summary>
public class VmConfigTests
{
    private static VmConfig Good => new() { KernelPath = "/boot/kernel.elf" };

    [Fact]
    public void Defaults_are_valid()
    {
        var c = Good;
        c.Validate();
        Assert.Equal(1, c.Cpus);
        Assert.Equal(64 * GuestLayout.MiB, c.MemoryBytes);
        Assert.Equal("", c.Cmdline);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(VmConfig.MaxCpus)]
    public void Cpu_count_limits_are_accepted(int cpus) => (Good with { Cpus = cpus }).Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(VmConfig.MaxCpus + 1)]
    [InlineData(999)]
    public void Cpu_count_out_of_range_is_refused(int cpus)
    {
        var e = Assert.Throws<ConfigException>(() => (Good with { Cpus = cpus }).Validate());
        Assert.Contains($"--cpus {cpus}", e.Message);
    }

    [Theory]
    [InlineData(1UL << 20, "--memory 1M", "at least 4 MiB")]
    [InlineData(2UL << 40, "--memory 2T", "at most 1024 GiB")]
    [InlineData((64UL << 20) + 100, "--memory", "multiple of 4 KiB")]
    public void Memory_out_of_limits_is_refused_with_a_clean_message(ulong bytes, string option, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => (Good with { MemoryBytes = bytes }).Validate());
        Assert.StartsWith(option, e.Message);
        Assert.Contains(reason, e.Message);
        // The ArgumentOutOfRangeException's parameter suffix is stripped: the user never named a parameter.
        Assert.DoesNotContain("Parameter", e.Message);
        Assert.DoesNotContain("ramBytes", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Memory_limits_are_accepted()
    {
        (Good with { MemoryBytes = GuestLayout.MinimumRam }).Validate();
        (Good with { MemoryBytes = GuestLayout.MaximumRam }).Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Missing_kernel_is_refused(string path)
    {
        var e = Assert.Throws<ConfigException>(() => new VmConfig { KernelPath = path }.Validate());
        Assert.Contains("--kernel", e.Message);
    }

    [Fact]
    public void Cmdline_length_is_counted_in_UTF8_bytes()
    {
        (Good with { Cmdline = new string('a', GuestLayout.CmdlineMax) }).Validate();
        var e = Assert.Throws<ConfigException>(() => (Good with { Cmdline = new string('a', GuestLayout.CmdlineMax + 1) }).Validate());
        Assert.Contains("--cmdline", e.Message);
        // 2048 characters, 4096 bytes.
        Assert.Throws<ConfigException>(() => (Good with { Cmdline = new string('é', 2048) }).Validate());
    }

    [Fact]
    public void Cmdline_with_NUL_is_refused()
    {
        // The guest reads a C string: everything after the NUL would silently vanish.
        var e = Assert.Throws<ConfigException>(() => (Good with { Cmdline = "a=1\0b=2" }).Validate());
        Assert.Contains("NUL", e.Message);
    }
}
