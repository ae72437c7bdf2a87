using System.Text;

namespace Bhyve.Aot.Tests.Support;

/// <summary>Writes a "newc" cpio archive (what the Linux kernel unpacks as an initramfs): directories and files, then the trailer.</summary>
internal sealed class CpioWriter
{
    private readonly MemoryStream _out = new();
    private int _inode = 1;

    public CpioWriter Directory(string path) => Entry(path, 0x4000 | 0x1ED, []);        // drwxr-xr-x

    public CpioWriter File(string path, byte[] data, bool executable = false) =>
        Entry(path, 0x8000 | (executable ? 0x1ED : 0x1A4), data);                      // -rwxr-xr-x / -rw-r--r--

    public byte[] ToArray()
    {
        Entry("TRAILER!!!", 0, [], nlink: 1, inode: 0);
        return _out.ToArray();
    }

    private CpioWriter Entry(string name, int mode, byte[] data, int nlink = 1, int? inode = null)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        foreach (int field in new[] { inode ?? _inode++, mode, 0, 0, mode >> 12 == 4 ? 2 : nlink, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0 })
            header.Append(field.ToString("X8"));
        _out.Write(Encoding.ASCII.GetBytes(header.ToString()));
        _out.Write(nameBytes);
        Pad();
        _out.Write(data);
        Pad();
        return this;
    }

    private void Pad()
    {
        while (_out.Length % 4 != 0) _out.WriteByte(0);
    }
}
