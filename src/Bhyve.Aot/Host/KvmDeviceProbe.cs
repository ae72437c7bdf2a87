using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Host;

/// <summary>Looks at /dev/kvm: the node, its owner and mode, our access, and the API version behind it.</summary>
public static class KvmDeviceProbe
{
    public static KvmDeviceReport Probe(HostFileSystem fs)
    {
        string path = fs.Resolve(KvmHost.DevicePath);
        var stat = FileNodeStat.Query(path, out int statErrno);
        if (stat is null && statErrno == Libc.ENOENT)
            return new KvmDeviceReport(path, false, null, null, null, false, false, false, Libc.Describe(statErrno), null, null);

        string? owner = null, group = null;
        if (stat is { } s)
        {
            owner = UnixAccounts.NameOf(fs.ReadText("/etc/passwd"), s.Uid) ?? s.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            group = UnixAccounts.NameOf(fs.ReadText("/etc/group"), s.Gid) ?? s.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        bool readable = Libc.Access(path, Libc.R_OK) == 0;
        bool writable = Libc.Access(path, Libc.W_OK) == 0;

        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Libc.LastErrno;
            string? hint = errno is Libc.EACCES or Libc.EPERM ? AccessHint(fs, stat, group) : null;
            return new KvmDeviceReport(path, true, stat?.ModeText, owner, group, readable, writable, false, Libc.Describe(errno), null, hint);
        }
        int version = Libc.Ioctl(fd, KvmIoctl.GetApiVersion, 0);
        Libc.Close(fd);
        return new KvmDeviceReport(path, true, stat?.ModeText, owner, group, readable, writable, true, null, version, null);
    }

    /// <summary>What a user denied access to /dev/kvm should do, from its group and mode and our groups.</summary>
    private static string AccessHint(HostFileSystem fs, FileNodeStat? stat, string? group)
    {
        if (stat is not { } s || group is null)
            return "check the owner and mode of /dev/kvm (ls -l /dev/kvm)";
        if (s.Gid == 0 || !s.GroupCanReadWrite)
            return $"/dev/kvm is {s.ModeText} group {group}: give it to a kvm group with mode 0660 "
                 + "(udev rule KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\") and add yourself to that group";
        if (!UnixAccounts.GroupsOf(fs.ReadText("/proc/self/status")).Contains(s.Gid))
            return $"add yourself to group {group} (sudo usermod -aG {group} $USER) and log in again";
        return $"you are in group {group} and /dev/kvm is {s.ModeText}, yet access is denied: check SELinux/AppArmor or the container's device cgroup";
    }
}
