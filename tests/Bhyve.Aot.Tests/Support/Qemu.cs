namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// QEMU microvm, the reference VMM of the end-to-end tests: the binary, and the command line that boots one of our
/// guests with its serial console on stdout and isa-debug-exit at 0x501, as bhyve-aot does. `make test` installs
/// QEMU, so its absence is a failure, not a skip.
/// </summary>
internal static class Qemu
{
    public static string Binary()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, "qemu-system-x86_64");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException("qemu-system-x86_64 is not on PATH: run `make test` (its deps-test step installs qemu-system-x86)");
    }

    /// <summary>Boots <paramref name="kernel"/> on microvm (with PCIe when devices follow); <paramref name="devices"/> are appended.</summary>
    public static Task<ProcessResult> RunAsync(string kernel, string cmdline, string memory, bool pcie, IEnumerable<string> devices, TimeSpan? timeout = null)
    {
        string qemu = Binary();
        Repo.RequireKvm();
        string[] args =
        [
            "-M", pcie ? "microvm,pcie=on" : "microvm", "-enable-kvm", "-cpu", "kvm64", "-m", memory, "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-no-reboot",
            "-kernel", kernel, "-append", cmdline,
            .. devices,
        ];
        return timeout is { } t ? ProcessRunner.RunAsync(qemu, args, t) : ProcessRunner.RunAsync(qemu, args);
    }
}
