using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Host;

/// <summary>
/// statx(2) of one path: file type and permission bits, owner and group. .NET exposes the mode but not the owner,
/// and the hint for a denied /dev/kvm needs the group.
/// </summary>
internal readonly record struct FileNodeStat(uint Mode, uint Uid, uint Gid)
{
    private const uint TypeMask = 0xF000;

    /// <summary>Stats the path (following links); null with the errno when it cannot.</summary>
    // SAFETY: the path is NUL-terminated and pinned for the call; statx writes at most Statx.Size bytes into the stack buffer of that size, and the fields read lie inside it
    public static unsafe FileNodeStat? Query(string path, out int errno)
    {
        errno = 0;
        byte[] cPath = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[Statx.Size];
        fixed (byte* p = cPath)
        {
            long r = Libc.Syscall(Statx.SyscallNumber, Statx.AtFdCwd, (long)p, 0, Statx.MaskType | Statx.MaskMode | Statx.MaskUid | Statx.MaskGid, (long)buffer, 0);
            if (r < 0) { errno = Libc.LastErrno; return null; }
        }
        return new FileNodeStat(*(ushort*)(buffer + Statx.ModeOffset), *(uint*)(buffer + Statx.UidOffset), *(uint*)(buffer + Statx.GidOffset));
    }

    /// <summary>ls -l style: "crw-rw----".</summary>
    public string ModeText
    {
        get
        {
            char type = (Mode & TypeMask) switch
            {
                0x2000 => 'c', 0x6000 => 'b', 0x4000 => 'd', 0xA000 => 'l', 0x1000 => 'p', 0xC000 => 's', _ => '-',
            };
            Span<char> text = stackalloc char[10];
            text[0] = type;
            const string rwx = "rwxrwxrwx";
            for (int i = 0; i < 9; i++) text[1 + i] = (Mode & (1u << (8 - i))) != 0 ? rwx[i] : '-';
            return new string(text);
        }
    }

    public bool GroupCanReadWrite => (Mode & 0x30) == 0x30;
}
