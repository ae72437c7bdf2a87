using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// QEMU microvm is the reference VMM: the same guest ELF with the same command line must print the same bytes
/// and end with the same status on both. `make test` installs QEMU, so its absence is a failure, not a skip.
/// </summary>
public class QemuComparisonTests
{
    private static string Qemu()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, "qemu-system-x86_64");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException("qemu-system-x86_64 is not on PATH: run `make test` (its deps-test step installs qemu-system-x86)");
    }

    [Theory]
    [InlineData("exit=3 foo=bar")]
    [InlineData("exit=0")]
    [InlineData("exit=200 console=com1 a=b")]
    public async Task Hello_behaves_as_on_QEMU_microvm(string cmdline)
    {
        string qemu = Qemu();
        string hello = Repo.Guest("hello.elf");
        Repo.RequireKvm();

        var reference = await ProcessRunner.RunAsync(qemu,
        [
            "-M", "microvm", "-enable-kvm", "-cpu", "kvm64", "-m", "64M", "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-no-reboot",
            "-kernel", hello, "-append", cmdline,
        ]);
        var ours = await ProcessRunner.RunBhyveAsync("run", "--kernel", hello, "--memory", "64M", "--cmdline", cmdline);

        // QEMU warns about CPUID features on stderr; only stdout and the status are compared.
        Assert.True(reference.Stdout.Length > 0, $"QEMU printed nothing: {reference}");
        Assert.Equal(reference.Stdout, ours.Stdout);
        Assert.Equal(reference.ExitCode, ours.ExitCode);
    }
}
