using Bhyve.Aot.Devices.Legacy;
using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The Linux 64-bit boot path and the ACPI power registers through the published binary, with probe
/// programs in place of a kernel: the vCPU really starts in long mode at the entry with RSI = zero page,
/// and the zero page really points at the command line, the initrd and the RSDP.
/// </summary>
public sealed class LinuxBootProtocolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-linux-proto-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("bzImage")]
    [InlineData("vmlinux")]
    public async Task The_kernel_starts_in_long_mode_with_the_command_line_in_the_zero_page(string kind)
    {
        byte[] code = LinuxEntryProbe.ReportByteAtZeroPagePointer(0x228); // cmd_line_ptr
        byte[] image = kind == "bzImage" ? LinuxEntryProbe.BzImage(code) : LinuxEntryProbe.Vmlinux(code);
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write(kind, image), "--memory", "64M", "--cmdline", "A console=ttyS0");
        Assert.True(r.ExitCode == LinuxEntryProbe.StatusFor((byte)'A'), r.ToString());
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task The_zero_page_points_at_the_initrd()
    {
        byte[] initrd = new byte[100_000];
        initrd[0] = (byte)'Z';
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.ReportByteAtZeroPagePointer(0x218))),
            "--initrd", Write("initrd", initrd), "--memory", "64M");
        Assert.True(r.ExitCode == LinuxEntryProbe.StatusFor((byte)'Z'), r.ToString());
    }

    [Fact]
    public async Task The_zero_page_points_at_the_RSDP()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.ReportByteAtZeroPagePointer(0x070))));
        Assert.True(r.ExitCode == LinuxEntryProbe.StatusFor((byte)'R'), r.ToString()); // "RSD PTR "
    }

    [Fact]
    public async Task ACPI_S5_powers_off_with_status_0()
    {
        byte[] code = LinuxEntryProbe.WritePort(AcpiPorts.Base + AcpiPorts.SleepControlOffset, (AcpiPorts.S5SleepType << 2) | AcpiPorts.SleepEnable);
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(code)), "--cpus", "2");
        Assert.True(r.ExitCode == ExitCodes.PoweredOff, r.ToString());
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData(AcpiPorts.Base + AcpiPorts.ResetOffset, AcpiPorts.ResetValue, "ACPI reset register")]
    [InlineData(KeyboardControllerReset.CommandPort, KeyboardControllerReset.PulseReset, "keyboard controller")]
    public async Task A_reset_request_ends_the_run_with_the_reset_status(int port, byte value, string how)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.WritePort((ushort)port, value))), "--cpus", "2");
        Assert.True(r.ExitCode == ExitCodes.Reset, r.ToString());
        Assert.Contains(how, r.Stderr);
    }

    [Theory]
    [InlineData("--initrd", "missing", "no such file")]
    [InlineData("--initrd", "empty", "the file is empty")]
    public async Task A_bad_initrd_is_refused(string option, string which, string message)
    {
        string path = which == "empty" ? Write("empty", []) : Path.Combine(_dir, "nothing-here");
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.WritePort(0x501, 0))), option, path);
        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        Assert.StartsWith("bhyve-aot: --initrd", r.Stderr);
        Assert.Contains(message, r.Stderr);
    }

    [Fact]
    public async Task An_initrd_larger_than_guest_RAM_is_refused()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.WritePort(0x501, 0))),
            "--initrd", Write("big", new byte[40 << 20]), "--memory", "32M");
        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        Assert.Contains("does not fit", r.Stderr);
    }

    [Fact]
    public async Task Unknown_cpuid_hide_names_are_refused()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(LinuxEntryProbe.WritePort(0x501, 0))), "--cpuid-hide", "xsave,bogus");
        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        Assert.Contains("--cpuid-hide: unknown CPU feature 'bogus'", r.Stderr);
    }

    [Fact]
    public async Task Hiding_features_still_boots()
    {
        byte[] code = LinuxEntryProbe.ReportByteAtZeroPagePointer(0x228);
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Write("bz", LinuxEntryProbe.BzImage(code)), "--cmdline", "B", "--cpuid-hide", "xsave,cx16,avx,kvmclock");
        Assert.True(r.ExitCode == LinuxEntryProbe.StatusFor((byte)'B'), r.ToString());
    }
}
