using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The console on a real terminal: util-linux `script` gives bhyve-aot a pseudo-terminal as stdin. The
/// guest halts forever; typing "~." at line start must end the run with status 14, and the terminal must
/// come back with the settings it had before (compared with `stty -g` before and after, in the same session).
/// </summary>
public sealed class TerminalConsoleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-tty-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Tilde_dot_quits_and_the_terminal_settings_come_back()
    {
        Repo.RequireKvm();
        Assert.True(File.Exists("/usr/bin/script"), "util-linux `script` is needed for a pseudo-terminal");
        // cli; hlt; jmp back to hlt: a guest that waits forever without using the CPU.
        string kernel = Path.Combine(_dir, "halt.bz");
        File.WriteAllBytes(kernel, LinuxEntryProbe.BzImage([0xFA, 0xF4, 0xEB, 0xFD]));
        string inner = $"stty -g; {Repo.Binary} run --kernel {kernel} --memory 32M; echo status=$?; stty -g";
        // The keys arrive after bhyve-aot has had time to start and switch the terminal to raw mode.
        string shell = $"(sleep 3; printf 'x\\r~.') | script -qec '{inner}' /dev/null";
        var r = await ProcessRunner.RunAsync("/bin/bash", ["-c", shell], TimeSpan.FromSeconds(60));
        var lines = r.Stdout.Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"status={ExitCodes.ConsoleQuit}", lines);
        var settings = lines.Where(l => l.Count(c => c == ':') > 10).ToArray();
        Assert.True(settings.Length == 2, r.ToString());
        Assert.Equal(settings[0], settings[1]);
        Assert.Contains("quit from the console", r.Stdout);
    }
}
