namespace Bhyve.Aot.StorageBench;

/// <summary>
/// storage-bench.elf, carried in this assembly as a resource (see the csproj), so the one bhyve-aot binary runs the
/// suite from any directory. bhyve-aot and QEMU load a kernel from a path, so a run writes it to a private file first.
/// </summary>
public sealed class EmbeddedGuest : IDisposable
{
    public const string ResourceName = "storage-bench.elf";

    private readonly string _directory;

    private EmbeddedGuest(string directory, string path) => (_directory, Path) = (directory, path);

    /// <summary>The guest's file, readable by the VMMs the suite spawns, until Dispose.</summary>
    public string Path { get; }

    /// <summary>The resource's bytes. The build fails without the ELF, so a missing resource is a broken build.</summary>
    public static byte[] Read()
    {
        using var stream = typeof(EmbeddedGuest).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in this build");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Writes the guest into a fresh directory of its own under the system's temporary directory.</summary>
    public static EmbeddedGuest Extract()
    {
        string directory = Directory.CreateTempSubdirectory("bhyve-aot-bench-guest-").FullName;
        string path = System.IO.Path.Combine(directory, ResourceName);
        File.WriteAllBytes(path, Read());
        return new EmbeddedGuest(directory, path);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }   // a leftover file in /tmp is not worth failing a finished run for
    }
}
