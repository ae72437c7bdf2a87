namespace Bhyve.Aot.StorageBench;

/// <summary>Which file system holds a path: the longest mount point in /proc/self/mounts that is a prefix of it.</summary>
public static class MountTable
{
    /// <summary>"ext4 on /dev/vda (/)" style description, or null when no mount matches.</summary>
    public static string? Describe(string mounts, string fullPath)
    {
        string? best = null, type = null, source = null;
        foreach (string line in mounts.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (f.Length < 3) continue;
            string mountPoint = Unescape(f[1]);
            bool under = fullPath == mountPoint || mountPoint == "/" || fullPath.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            // Later lines win for the same mount point: they are mounted on top.
            if (under && (best is null || mountPoint.Length >= best.Length))
            {
                best = mountPoint;
                type = f[2];
                source = Unescape(f[0]);
            }
        }
        return best is null ? null : $"{type} on {source} ({best})";
    }

    /// <summary>/proc/mounts writes space, tab, newline and backslash as \040, \011, \012, \134.</summary>
    private static string Unescape(string s) =>
        s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
