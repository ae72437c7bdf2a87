using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// An hvt network device on a host tap interface (IFF_TAP | IFF_NO_PI, non-blocking), as solo5-hvt attaches one:
/// one Ethernet frame per read or write. The MAC the guest is told is a random locally administered unicast
/// address; the MTU is 1500.
/// </summary>
public sealed class HvtTap : IHvtNetBackend
{
    public const ushort DefaultMtu = 1500;
    private int _fd;

    private HvtTap(int fd, ulong mac)
    {
        _fd = fd;
        Mac = mac;
    }

    public int Fd => _fd;
    public ulong Mac { get; }
    public ushort Mtu => DefaultMtu;

    /// <summary>Attaches to the tap interface named ifname; throws IOException saying why (no such device, permission, ...).</summary>
    // SAFETY: the name is checked to be shorter than IfNameSize bytes and written into at most IfNameSize - 1 of them; TUNSETIFF reads the ifreq on our stack
    public static unsafe HvtTap Open(string ifname)
    {
        if (ifname.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(ifname) >= TapAbi.IfNameSize || ifname.Contains('/'))
            throw new IOException($"'{ifname}' is not a network interface name (1-{TapAbi.IfNameSize - 1} bytes)");
        int fd = Libc.Open(TapAbi.CloneDevice, Libc.O_RDWR | Libc.O_CLOEXEC | TapAbi.O_NONBLOCK);
        if (fd < 0) throw new IOException($"cannot open {TapAbi.CloneDevice}: {Libc.Describe(Libc.LastErrno)}");
        var request = new TapIfreq { Flags = TapAbi.IffTap | TapAbi.IffNoPi };
        System.Text.Encoding.UTF8.GetBytes(ifname, new Span<byte>(request.Name, TapAbi.IfNameSize - 1));
        if (Libc.Ioctl(fd, TapAbi.TunSetIff, &request) < 0)
        {
            int errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException($"cannot attach to tap interface {ifname} (TUNSETIFF): {Libc.Describe(errno)}");
        }
        Span<byte> mac = stackalloc byte[6];
        // Not RandomNumberGenerator: in the static NativeAOT binary it would need OpenSSL loaded at run time.
        Random.Shared.NextBytes(mac);
        mac[0] = (byte)((mac[0] & 0xFE) | 0x02);   // unicast, locally administered
        ulong value = 0;
        foreach (byte b in mac) value = (value << 8) | b;
        return new HvtTap(fd, value);
    }

    // SAFETY: HvtHypercalls passes a frame it checked with In(data, length): length bytes of guest RAM
    public unsafe int Write(byte* frame, ulong length)
    {
        nint n = Libc.Write(_fd, frame, (nuint)length);
        return n == (nint)length ? Solo5Result.Ok : Solo5Result.Unspecified;
    }

    // SAFETY: HvtHypercalls passes a buffer it checked with Out(data, capacity); read(2) writes at most capacity bytes
    public unsafe int Read(byte* buffer, ulong capacity, out ulong length)
    {
        nint n = Libc.Read(_fd, buffer, (nuint)capacity);
        if (n < 0)
        {
            length = 0;
            return Libc.LastErrno == Libc.EAGAIN ? Solo5Result.Again : Solo5Result.Unspecified;
        }
        length = (ulong)n;
        return Solo5Result.Ok;
    }

    public void Dispose()
    {
        if (_fd >= 0) { Libc.Close(_fd); _fd = -1; }
    }
}
