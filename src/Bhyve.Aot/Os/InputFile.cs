using System.Text;
using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>A file a user named that cannot be read as asked; the message is one line that names it.</summary>
public sealed class InputFileException(string message) : Exception(message);

/// <summary>
/// Reads the whole of a file a user names (kernel, initrd, machine file, bhyve config file): a regular file only, no
/// larger than a cap checked before any byte is read. It is opened non-blocking, so a FIFO cannot stall us, and its
/// type and size come from the open descriptor (statx), so what is checked is what is read. Devices, FIFOs, sockets
/// and directories are refused by name; a missing parent directory is named as such; names are escaped so one
/// problem is one line.
/// </summary>
public static class InputFile
{
    private const int O_NONBLOCK = 0x800, ENOTDIR = 20, ENXIO = 6, ELOOP = 40, ENAMETOOLONG = 36;
    private const uint S_IFCHR = 0x2000, S_IFIFO = 0x1000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000;

    /// <summary>
    /// The bytes of <paramref name="path"/>. <paramref name="what"/> names the file's role in messages ("kernel image",
    /// "machine file"); <paramref name="maxBytes"/> is the cap; an empty file is refused when <paramref name="allowEmpty"/> is false.
    /// </summary>
    // SAFETY: the only pointer is into `bytes`, pinned by `fixed`, and each read is bounded by its length.
    public static unsafe byte[] ReadAll(string path, string what, long maxBytes, bool allowEmpty = true)
    {
        string name = $"{what} {Escape(path)}";
        if (path.Length == 0) throw new InputFileException($"{what}: empty path");
        if (path.Contains('\0')) throw new InputFileException($"{name}: the name contains a NUL character");
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) throw new InputFileException($"{name}: {DescribeOpenFailure(path, Libc.LastErrno)}");
        try
        {
            (uint type, long size) = Stat(fd, name);
            if (type != BlockAbi.S_IFREG) throw new InputFileException($"{name}: {DescribeType(type)}");
            if (size > maxBytes)
                throw new InputFileException($"{name}: {FormatBytes(size)} is too large (at most {FormatBytes(maxBytes)})");
            if (size == 0 && !allowEmpty) throw new InputFileException($"{name}: the file is empty");
            var bytes = new byte[size];
            long done = 0;
            fixed (byte* p = bytes)
            {
                while (done < size)
                {
                    // SAFETY: p + done .. p + size lies inside the pinned array of exactly `size` bytes.
                    nint n = Libc.Read(fd, p + done, (nuint)(size - done));
                    if (n < 0 && Libc.LastErrno == Libc.EINTR) continue;
                    if (n < 0) throw new InputFileException($"{name}: cannot read: {Libc.Describe(Libc.LastErrno)}");
                    if (n == 0) throw new InputFileException($"{name}: the file shrank while it was read");
                    done += n;
                }
            }
            return bytes;
        }
        finally { Libc.Close(fd); }
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot back a disk, or null when it can be tried: it must exist (unless it is to be
    /// created) and be a regular file or a block device. Lets a front end name the device (`-s 2,virtio-blk: ...`)
    /// before the machine is built; the backend's own open is still the one that counts.
    /// </summary>
    public static string? ProbeBacking(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return Libc.LastErrno is Libc.EACCES or Libc.EPERM ? null : DescribeOpenFailure(path, Libc.LastErrno);
        try
        {
            (uint type, _) = Stat(fd, path);
            return type is BlockAbi.S_IFREG or BlockAbi.S_IFBLK ? null : DescribeType(type);
        }
        catch (InputFileException) { return null; }
        finally { Libc.Close(fd); }
    }

    /// <summary>Why open(2) failed, in a user's words; ENOENT says whether the file or its directory is missing.</summary>
    public static string DescribeOpenFailure(string path, int errno) => errno switch
    {
        Libc.ENOENT => MissingParent(path) is { } dir ? $"the directory {Escape(dir)} does not exist" : "no such file",
        Libc.EACCES or Libc.EPERM => "permission denied",
        ENOTDIR => "a part of the path is not a directory",
        ENXIO => "is a socket or a device with nothing behind it, not a regular file",
        ELOOP => "too many levels of symbolic links",
        ENAMETOOLONG => "the name is too long",
        BlockAbi.EISDIR => "is a directory",
        _ => $"cannot open: {Libc.Describe(errno)}",
    };

    /// <summary>The nearest directory on the path that does not exist, when the file's own directory is missing; else null.</summary>
    public static string? MissingParent(string path)
    {
        string? parent = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(parent) || Directory.Exists(parent)) return null;
        // Name the first missing one, so "a/b/c/x.img" with only "a" present says "a/b".
        string missing = parent;
        for (string? up = Path.GetDirectoryName(missing); !string.IsNullOrEmpty(up) && !Directory.Exists(up); up = Path.GetDirectoryName(up))
            missing = up;
        return missing;
    }

    public static string DescribeType(uint type) => type switch
    {
        BlockAbi.S_IFDIR => "is a directory",
        S_IFCHR => "is not a regular file (a character device)",
        BlockAbi.S_IFBLK => "is not a regular file (a block device)",
        S_IFIFO => "is not a regular file (a FIFO)",
        S_IFSOCK => "is not a regular file (a socket)",
        S_IFLNK => "is not a regular file (a symbolic link)",
        _ => "is not a regular file",
    };

    /// <summary>A name as it can be printed on one line: control characters, backslashes and invalid text escaped C-style.</summary>
    public static string Escape(string text)
    {
        bool plain = true;
        foreach (char c in text)
            if (char.IsControl(c) || c == '\\' || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u0085') { plain = false; break; }
        if (plain) return text;
        var sb = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); continue; }
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\\' => "\\\\",
                _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' => c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    // SAFETY: statx writes at most sizeof(struct statx) = Statx.Size bytes into the stack buffer it is given.
    private static unsafe (uint Type, long Size) Stat(int fd, string name)
    {
        byte* stx = stackalloc byte[Statx.Size];
        byte* empty = stackalloc byte[1];
        empty[0] = 0;
        // SAFETY: stx is a Statx.Size-byte stack buffer (struct statx is 256 bytes) and empty a NUL-terminated "".
        if (Libc.Syscall(Statx.SyscallNumber, fd, (long)empty, BlockAbi.AtEmptyPath, BlockAbi.StatxMaskType | BlockAbi.StatxMaskSize, (long)stx, 0) < 0)
            throw new InputFileException($"{name}: cannot stat: {Libc.Describe(Libc.LastErrno)}");
        // SAFETY: both offsets lie inside the 256-byte struct statx the kernel filled.
        uint type = *(ushort*)(stx + BlockAbi.StatxModeOffset) & BlockAbi.S_IFMT;
        long size = *(long*)(stx + BlockAbi.StatxSizeOffset);
        return (type, size);
    }

    private static string FormatBytes(long n) =>
        n >= 1L << 20 ? $"{n / (1L << 20)} MiB" : n >= 1L << 10 ? $"{n / (1L << 10)} KiB" : $"{n} bytes";
}
