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
}

/// <summary>struct ifreq as TUNSETIFF reads it: the interface name, then the flags (the union is 24 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct TapIfreq
{
    // SAFETY: IFNAMSIZ bytes; the one writer (HvtTap.Open) spans exactly IfNameSize - 1 of them, leaving the terminating zero
    public unsafe fixed byte Name[TapAbi.IfNameSize];
    public short Flags;
}
