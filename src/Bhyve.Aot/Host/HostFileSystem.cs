namespace Bhyve.Aot.Host;

/// <summary>
/// Reads /proc, /sys, /etc and /dev below a root directory: "/" on the live host, a fake tree in tests.
/// Every read is best-effort: a missing or unreadable file is null, never an exception.
/// </summary>
public sealed class HostFileSystem(string root)
{
    public static HostFileSystem Live { get; } = new("/");

    public string Root { get; } = root;

    /// <summary>Where an absolute host path (e.g. "/sys/module/kvm") lies under this root.</summary>
    public string Resolve(string hostPath) => Root == "/" ? hostPath : Path.Join(Root, hostPath);

    public string? ReadText(string hostPath)
    {
        try { return File.ReadAllText(Resolve(hostPath)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>A one-value file such as a sysctl or a module parameter, trimmed.</summary>
    public string? ReadValue(string hostPath) => ReadText(hostPath)?.Trim();

    public bool DirectoryExists(string hostPath) => Directory.Exists(Resolve(hostPath));
}
