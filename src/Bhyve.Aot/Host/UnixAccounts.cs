namespace Bhyve.Aot.Host;

/// <summary>User and group names from /etc/passwd and /etc/group, and our own groups from /proc/self/status.</summary>
public static class UnixAccounts
{
    /// <summary>The name with this id in a passwd- or group-format file ("name:x:id:..."), or null.</summary>
    public static string? NameOf(string? databaseText, uint id)
    {
        if (databaseText is null) return null;
        string key = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in databaseText.Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[2] == key) return fields[0];
        }
        return null;
    }

    /// <summary>The effective gid and supplementary groups in /proc/self/status text ("Gid:" and "Groups:" lines).</summary>
    public static HashSet<uint> GroupsOf(string? statusText)
    {
        var groups = new HashSet<uint>();
        if (statusText is null) return groups;
        foreach (var line in statusText.Split('\n'))
        {
            bool gidLine = line.StartsWith("Gid:", StringComparison.Ordinal);
            if (!gidLine && !line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
            var fields = line[(line.IndexOf(':') + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            // Gid: real, effective, saved, filesystem. Access checks use the filesystem gid; take them all, they agree in practice.
            foreach (var f in fields)
                if (uint.TryParse(f, out uint gid)) groups.Add(gid);
        }
        return groups;
    }
}
