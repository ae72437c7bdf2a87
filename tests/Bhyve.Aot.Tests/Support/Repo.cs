namespace Bhyve.Aot.Tests.Support;

/// <summary>Where the end-to-end tests find the published binary and the guest ELFs (see the top Makefile).</summary>
internal static class Repo
{
    private const string RunMakeTest = "run `make test` (it publishes out/bhyve-aot and builds native/guest/build first)";

    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Bhyve.Aot.sln"))) return dir.FullName;
            throw new InvalidOperationException($"no Bhyve.Aot.sln above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>BHYVE_AOT_BIN, else out/bhyve-aot; a missing binary fails the test rather than skipping it.</summary>
    public static string Binary
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("BHYVE_AOT_BIN") is { Length: > 0 } env
                ? env
                : Path.Combine(Root, "out", "bhyve-aot");
            if (!File.Exists(path)) throw new FileNotFoundException($"bhyve-aot binary not found at {path}: {RunMakeTest}");
            return path;
        }
    }

    /// <summary>BHYVE_AOT_GUESTS, else native/guest/build; the named guest must exist.</summary>
    public static string Guest(string name)
    {
        string dir = Environment.GetEnvironmentVariable("BHYVE_AOT_GUESTS") is { Length: > 0 } env
            ? env
            : Path.Combine(Root, "native", "guest", "build");
        string path = Path.Combine(dir, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"guest {name} not found at {path}: {RunMakeTest}");
        return path;
    }

    /// <summary>Booting needs KVM; say so plainly instead of failing with an obscure exit code.</summary>
    public static void RequireKvm()
    {
        if (!File.Exists("/dev/kvm"))
            throw new InvalidOperationException("/dev/kvm is absent: the end-to-end tests need a host that can run KVM guests");
    }
}
