using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>
/// io_uring system call numbers and register opcodes (linux/io_uring.h, asm/unistd_64.h, x86-64),
/// checked against the kernel headers with a C probe (offsetof/sizeof).
/// </summary>
internal static class IoUringAbi
{
    public const long SysSetup = 425;
    public const long SysEnter = 426;
    public const long SysRegister = 427;

    /// <summary>IORING_REGISTER_PROBE: fills an io_uring_probe with the opcodes this kernel knows.</summary>
    public const long RegisterProbe = 8;

    /// <summary>io_uring_probe_op.flags bit 0: the kernel supports the opcode.</summary>
    public const ushort OpSupported = 1;

    /// <summary>How many io_uring_probe_op entries we pass; the opcode is a u8, so 256 covers every kernel.</summary>
    public const int ProbeOpCapacity = 256;

    /// <summary>/proc/sys/kernel/io_uring_disabled: 0 all may use it, 1 only CAP_SYS_ADMIN or io_uring_group, 2 nobody.</summary>
    public const string DisabledSysctl = "/proc/sys/kernel/io_uring_disabled";
}

/// <summary>IORING_OP_* (enum io_uring_op): the opcodes the block engine needs.</summary>
public enum IoUringOp : byte
{
    Nop = 0,
    Readv = 1,
    Writev = 2,
    Fsync = 3,
    ReadFixed = 4,
    WriteFixed = 5,
    Fallocate = 17,
    Read = 22,
    Write = 23,
}

/// <summary>struct io_sqring_offsets (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoSqringOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_cqring_offsets (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoCqringOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_uring_params (120 bytes): in/out argument of io_uring_setup.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Resv[3];
    public IoSqringOffsets SqOff;
    public IoCqringOffsets CqOff;
}

/// <summary>struct io_uring_probe without its flexible ops[] array (16 bytes); the ops follow it in memory.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringProbeHeader
{
    public byte LastOp;
    public byte OpsLen;
    public ushort Resv;
    public fixed uint Resv2[3];
}

/// <summary>struct io_uring_probe_op (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringProbeOp
{
    public byte Op;
    public byte Resv;
    public ushort Flags;
    public uint Resv2;
}
