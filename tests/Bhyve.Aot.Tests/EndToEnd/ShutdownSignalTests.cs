using System.Diagnostics;
using System.Runtime.InteropServices;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// SIGTERM and SIGINT on a running VM, through the published binary: the guest (powerbutton.elf, which polls the
/// ACPI Generic Event Device's register) sees the power button and powers off, the VMM exits 0 and prints --stats; a
/// guest that ignores the button is stopped after --shutdown-timeout with status 20 and --stats still printed.
/// </summary>
public sealed partial class ShutdownSignalTests : IDisposable
{
    private const int SIGINT = 2, SIGTERM = 15;
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-sigterm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Starts bhyve-aot, waits for the guest's "waiting" line, sends the signal, and returns how the process ended.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr, TimeSpan AfterSignal)> SignalWhenWaiting(int signal, params string[] args)
    {
        Repo.RequireKvm();
        var psi = new ProcessStartInfo(Repo.Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = new System.Text.StringBuilder();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.Append(e.Data).Append('\n');
            if (e.Data.Contains("waiting for the power button")) waiting.TrySetResult();
        };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            await waiting.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var sent = Stopwatch.StartNew();
            Assert.Equal(0, Kill(p.Id, signal));
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var after = sent.Elapsed;
            p.WaitForExit();   // drains the output events
            string err = await stderr;
            lock (stdout) return (p.ExitCode, stdout.ToString(), err, after);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    private string Disk()
    {
        string path = Path.Combine(_dir, "disk.img");
        using (var f = File.Create(path)) f.SetLength(1 << 20);
        return path;
    }

    [Theory]
    [InlineData(SIGTERM)]
    [InlineData(SIGINT)]
    public async Task A_signal_powers_the_guest_off_through_the_ACPI_power_button_with_status_0_and_stats(int signal)
    {
        var r = await SignalWhenWaiting(signal, "run", "--kernel", Repo.Guest("powerbutton.elf"), "--disk", Disk(), "--nvme", "ram=1M", "--stats");
        string all = $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}";
        Assert.True(r.ExitCode == 0, all);
        Assert.Contains("powerbutton guest: power button pressed, powering off\n", r.Stdout);
        Assert.Contains("bhyve-aot: exits to user space: ", r.Stderr);
        Assert.Contains("bhyve-aot: virtio-blk: ", r.Stderr);
        Assert.Contains("bhyve-aot: nvme: ", r.Stderr);
        Assert.DoesNotContain("stopped", r.Stderr);
    }

    [Fact]
    public async Task A_guest_that_ignores_the_button_is_stopped_after_the_shutdown_timeout_with_status_20_and_stats()
    {
        var r = await SignalWhenWaiting(SIGTERM, "run", "--kernel", Repo.Guest("powerbutton.elf"), "--cmdline", "ignore",
            "--shutdown-timeout", "1", "--disk", Disk(), "--stats");
        string all = $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}";
        Assert.True(r.ExitCode == 20, all);
        Assert.True(r.AfterSignal >= TimeSpan.FromSeconds(1), all);
        Assert.Contains("bhyve-aot: SIGTERM: the guest did not power off within 1 s of the power button; stopped\n", r.Stderr);
        Assert.Contains("bhyve-aot: exits to user space: ", r.Stderr);
        Assert.Contains("bhyve-aot: virtio-blk: ", r.Stderr);
    }

    [Fact]
    public async Task A_zero_timeout_stops_at_once()
    {
        var r = await SignalWhenWaiting(SIGTERM, "run", "--kernel", Repo.Guest("powerbutton.elf"), "--cmdline", "ignore", "--shutdown-timeout", "0");
        Assert.True(r.ExitCode == 20, r.Stderr);
        Assert.Equal("bhyve-aot: SIGTERM: stopped (--shutdown-timeout 0)\n", r.Stderr);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("3601")]
    public async Task A_bad_timeout_is_one_line_and_status_2(string value)
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["run", "--kernel", Repo.Guest("powerbutton.elf"), "--shutdown-timeout", value]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"bhyve-aot: run: --shutdown-timeout: '{value}' is not a whole number of seconds (0..3600)\n", r.Stderr);
    }
}
