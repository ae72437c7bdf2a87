namespace Bhyve.Aot.Tests.Support;

/// <summary>Debian's cloud kernel as `make linux-image` leaves it in out/linux (tests/linux/fetch-debian-kernel.sh).</summary>
internal static class LinuxImage
{
    public static string Directory => Environment.GetEnvironmentVariable("BHYVE_AOT_LINUX") is { Length: > 0 } env
        ? env
        : Path.Combine(Repo.Root, "out", "linux");

    /// <summary>A file of the kernel package; missing means `make linux-image` did not run: a failure, not a skip.</summary>
    public static string File(string name)
    {
        string path = Path.Combine(Directory, name);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"{path} not found: run `make linux-image` (or `make test`, which depends on it)");
        return path;
    }
}
