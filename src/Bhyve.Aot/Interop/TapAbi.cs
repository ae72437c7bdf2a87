using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>The Linux tun/tap ABI: /dev/net/tun, TUNSETIFF and its struct ifreq (linux/if_tun.h, net/if.h).</summary>
internal static class TapAbi
{
    public const string CloneDevice = "/dev/net/tun";
    public const nuint TunSetIff = 0x4004_54CA;   // _IOW('T', 202, int)
    public const short IffTap = 0x0002, IffNoPi = 0x1000;
    public const int O_NONBLOCK = 0x800;
    public const int IfNameSize = 16;
    /// <summary>Interface ioctls on any socket (linux/sockios.h): flags (short) and MTU (int) after the name.</summary>
    public const nuint SiocGifFlags = 0x8913, SiocGifMtu = 0x8921;
    public const short IffUp = 0x1, IffRunning = 0x40;
}

/// <summary>struct ifreq as TUNSETIFF reads it: the interface name, then the flags (the union is 24 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct TapIfreq
{
    // SAFETY: IFNAMSIZ bytes; the one writer (HvtTap.Open) spans exactly IfNameSize - 1 of them, leaving the terminating zero
    public unsafe fixed byte Name[TapAbi.IfNameSize];
    public short Flags;
}

/// <summary>struct ifreq as SIOCGIFMTU fills it: the interface name, then an int (ifr_mtu).</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct IfreqInt
{
    // SAFETY: IFNAMSIZ bytes; the one writer (HvtTap.QueryInterface) spans exactly IfNameSize - 1 of them, leaving the terminating zero
    public unsafe fixed byte Name[TapAbi.IfNameSize];
    public int Value;
}
