using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// QEMU microvm is the reference VMM: the same guest ELF with the same command line must print the same bytes
/// and end with the same status on both. `make test` installs QEMU, so its absence is a failure, not a skip.
/// </summary>
public class QemuComparisonTests
{
    [Theory]
    [InlineData("exit=3 foo=bar")]
    [InlineData("exit=0")]
    [InlineData("exit=200 console=com1 a=b")]
    public async Task Hello_behaves_as_on_QEMU_microvm(string cmdline)
    {
        string hello = Repo.Guest("hello.elf");
        var reference = await Qemu.RunAsync(hello, cmdline, "64M", pcie: false, []);
        var ours = await ProcessRunner.RunBhyveAsync("run", "--kernel", hello, "--memory", "64M", "--cmdline", cmdline);

        // QEMU warns about CPUID features on stderr; only stdout and the status are compared.
        Assert.True(reference.Stdout.Length > 0, $"QEMU printed nothing: {reference}");
        Assert.Equal(reference.Stdout, ours.Stdout);
        Assert.Equal(reference.ExitCode, ours.ExitCode);
    }
}
