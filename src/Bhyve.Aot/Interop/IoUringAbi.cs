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

    /// <summary>IORING_REGISTER_FILES / IORING_REGISTER_EVENTFD: fixed file table, completion eventfd.</summary>
    public const long RegisterFiles = 2;
    public const long RegisterEventFd = 4;

    /// <summary>IORING_SETUP_*: CQSIZE lets us size the CQ ring; CLAMP trims oversized rings instead of failing;
    /// R_DISABLED (5.10) creates the ring disabled so restrictions can be registered before anything runs.</summary>
    public const uint SetupCqSize = 1u << 3;
    public const uint SetupClamp = 1u << 4;
    public const uint SetupRDisabled = 1u << 6;

    /// <summary>IORING_REGISTER_RESTRICTIONS / IORING_REGISTER_ENABLE_RINGS (5.10): restrict a disabled ring, then start it.</summary>
    public const long RegisterRestrictions = 11;
    public const long RegisterEnableRings = 12;

    /// <summary>enum io_uring_register_restriction_op: what one struct io_uring_restriction allows.</summary>
    public const ushort RestrictionRegisterOp = 0, RestrictionSqeOp = 1, RestrictionSqeFlagsAllowed = 2, RestrictionSqeFlagsRequired = 3;

    /// <summary>IORING_FEAT_*: SINGLE_MMAP (5.4) maps SQ and CQ rings together; NODROP (5.5) buffers overflowing CQEs.</summary>
    public const uint FeatSingleMmap = 1u << 0;
    public const uint FeatNoDrop = 1u << 1;
    public const uint FeatSubmitStable = 1u << 2;

    /// <summary>mmap offsets of the three shared regions (IORING_OFF_*).</summary>
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    /// <summary>io_uring_enter flags: GETEVENTS also flushes CQEs the kernel parked on its overflow list.</summary>
    public const uint EnterGetEvents = 1u << 0;

    /// <summary>sq_ring->flags bits (IORING_SQ_*): CQ_OVERFLOW says CQEs wait on the kernel's overflow list.</summary>
    public const uint SqNeedWakeup = 1u << 0;
    public const uint SqCqOverflow = 1u << 1;

    /// <summary>sqe->flags bits (IOSQE_*).</summary>
    public const byte SqeFixedFile = 1 << 0;
    public const byte SqeIoDrain = 1 << 1;
    public const byte SqeIoLink = 1 << 2;

    /// <summary>sqe->fsync_flags: IORING_FSYNC_DATASYNC (fdatasync instead of fsync).</summary>
    public const uint FsyncDataSync = 1u << 0;

    public const int SqeSize = 64;
    public const int CqeSize = 16;

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
    OpenAt = 18,
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
internal struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed uint Resv[3];
    public IoSqringOffsets SqOff;
    public IoCqringOffsets CqOff;
}

/// <summary>struct io_uring_restriction (16 bytes): opcode says which union member (register_op, sqe_op, sqe_flags) Value is.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRestriction
{
    public ushort Opcode;
    public byte Value;
    public byte Resv;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed uint Resv2[3];
}

/// <summary>struct io_uring_probe without its flexible ops[] array (16 bytes); the ops follow it in memory.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringProbeHeader
{
    public byte LastOp;
    public byte OpsLen;
    public ushort Resv;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed uint Resv2[3];
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

/// <summary>
/// struct io_uring_sqe (64 bytes). Only the union members the block engine uses are named:
/// Off (off/addr2), Addr (addr/splice_off_in), Len, OpFlags (rw_flags/fsync_flags/...).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct IoUringSqe
{
    [FieldOffset(0)] public IoUringOp Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Off;
    [FieldOffset(16)] public ulong Addr;
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufIndex;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn;
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad2;
}

/// <summary>struct io_uring_cqe (16 bytes, rings set up without IORING_SETUP_CQE32).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoUringCqe
{
    public ulong UserData;
    public int Res;
    public uint Flags;
}
