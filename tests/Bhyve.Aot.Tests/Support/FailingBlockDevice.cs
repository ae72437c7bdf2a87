using System.Diagnostics;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// A block device whose writeback really fails: a loop device over a sparse 64 MiB file on a 256 KiB tmpfs. Writes
/// land in the page cache; the first fdatasync that pushes more than 256 KiB to the backing file gets EIO, and the
/// next one succeeds (Linux reports a writeback error once), which is exactly what the flush latch is for.
/// Needs root, /dev/loop-control and losetup; elsewhere the tests that use it are skipped with the reason.
/// </summary>
internal sealed class FailingBlockDevice : IDisposable
{
    private readonly string _mount;

    public FailingBlockDevice()
    {
        _mount = Path.Combine(Path.GetTempPath(), "bhyve-aot-faildev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_mount);
        Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", _mount);
        try
        {
            string backing = Path.Combine(_mount, "backing");
            using (var f = File.Create(backing)) f.SetLength(64 << 20);
            DevicePath = Run("losetup", "-f", "--show", backing).Trim();
        }
        catch
        {
            Run("umount", _mount);
            Directory.Delete(_mount);
            throw;
        }
    }

    public string DevicePath { get; } = "";

    /// <summary>Why this host cannot provide one, or null.</summary>
    public static string? WhyUnavailable()
    {
        if (Environment.UserName != "root") return "needs root (mount, losetup)";
        if (!File.Exists("/dev/loop-control")) return "needs loop devices (/dev/loop-control)";
        if (!File.Exists("/usr/sbin/losetup") && !File.Exists("/sbin/losetup")) return "needs losetup (util-linux)";
        return null;
    }

    private static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {p.ExitCode}: {stderr.Trim()}");
        return stdout;
    }

    public void Dispose()
    {
        try { Run("losetup", "-d", DevicePath); } catch (InvalidOperationException) { }
        try { Run("umount", "-l", _mount); } catch (InvalidOperationException) { }
        try { Directory.Delete(_mount); } catch (IOException) { }
    }
}

/// <summary>A theory that runs only where a FailingBlockDevice can be made.</summary>
internal sealed class FailingBlockDeviceTheoryAttribute : Xunit.TheoryAttribute
{
    public FailingBlockDeviceTheoryAttribute()
    {
        if (FailingBlockDevice.WhyUnavailable() is { } why) Skip = why;
    }
}
