using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// An hvt network device on a host tap interface (IFF_TAP | IFF_NO_PI, non-blocking), as solo5-hvt attaches one:
/// one Ethernet frame per read or write. The interface must exist and be up (solo5-hvt's tap_attach refuses
/// otherwise, rather than have TUNSETIFF create a new one); the MTU the guest is told is the interface's own
/// (SIOCGIFMTU); the MAC is the one given or a random locally administered unicast address.
/// </summary>
public sealed class HvtTap : IHvtNetBackend
{
    private int _fd;

    private HvtTap(int fd, ulong mac, ushort mtu)
    {
        _fd = fd;
        Mac = mac;
        Mtu = mtu;
    }

    public int Fd => _fd;
    public ulong Mac { get; }
    public ushort Mtu { get; }

    /// <summary>
    /// Attaches to the tap interface named ifname, telling the guest mac (or a random one when null); throws
    /// IOException saying why (no such interface, down, permission, ...).
    /// </summary>
    // SAFETY: the name is checked to be shorter than IfNameSize bytes and written into at most IfNameSize - 1 of them; TUNSETIFF reads the ifreq on our stack
    public static unsafe HvtTap Open(string ifname, ulong? mac = null)
    {
        if (ifname.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(ifname) >= TapAbi.IfNameSize || ifname.Contains('/'))
            throw new IOException($"'{ifname}' is not a network interface name (1-{TapAbi.IfNameSize - 1} bytes)");
        var (up, mtu) = QueryInterface(ifname);
        if (!up) throw new IOException($"cannot attach to tap interface {ifname}: {Libc.Describe(NetworkDown)} (the interface is down)");
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
        return new HvtTap(fd, mac ?? RandomMac(), mtu);
    }

    private const int NoSuchDevice = 19, NetworkDown = 100;   // ENODEV, ENETDOWN

    /// <summary>Whether the interface is up and its MTU, asked on a datagram socket as solo5-hvt's tap_attach does.</summary>
    // SAFETY: both ioctls read the name from and write one short or int into a local 40-byte struct ifreq, the size the kernel uses.
    private static unsafe (bool Up, ushort Mtu) QueryInterface(string ifname)
    {
        int sock = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (sock < 0) throw new IOException($"cannot ask about interface {ifname}: socket: {Libc.Describe(Libc.LastErrno)}");
        try
        {
            var request = new IfreqInt();
            System.Text.Encoding.UTF8.GetBytes(ifname, new Span<byte>(request.Name, TapAbi.IfNameSize - 1));
            if (Libc.Ioctl(sock, TapAbi.SiocGifFlags, &request) < 0)
            {
                int errno = Libc.LastErrno;
                throw new IOException(errno == NoSuchDevice
                    ? $"cannot attach to tap interface {ifname}: no such interface (create it first: ip tuntap add {ifname} mode tap)"
                    : $"cannot attach to tap interface {ifname} (SIOCGIFFLAGS): {Libc.Describe(errno)}");
            }
            bool up = ((short)request.Value & (TapAbi.IffUp | TapAbi.IffRunning)) != 0;
            if (Libc.Ioctl(sock, TapAbi.SiocGifMtu, &request) < 0)
                throw new IOException($"cannot read the MTU of {ifname} (SIOCGIFMTU): {Libc.Describe(Libc.LastErrno)}");
            // struct mft_net_basic carries the MTU as a u16; Linux allows up to 65535 on a tap, so it fits.
            return (up, (ushort)Math.Clamp(request.Value, 0, ushort.MaxValue));
        }
        finally { Libc.Close(sock); }
    }

    /// <summary>A random locally administered unicast MAC, as solo5-hvt's tap_attach_genmac.</summary>
    private static ulong RandomMac()
    {
        Span<byte> mac = stackalloc byte[6];
        // Not RandomNumberGenerator: in the static NativeAOT binary it would need OpenSSL loaded at run time.
        Random.Shared.NextBytes(mac);
        mac[0] = (byte)((mac[0] & 0xFE) | 0x02);   // unicast, locally administered
        ulong value = 0;
        foreach (byte b in mac) value = (value << 8) | b;
        return value;
    }

    /// <summary>A MAC as solo5-hvt's --net-mac reads it (six hex pairs joined by colons), or null.</summary>
    public static ulong? ParseMac(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 6) return null;
        ulong value = 0;
        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b)) return null;
            value = (value << 8) | b;
        }
        return value;
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
