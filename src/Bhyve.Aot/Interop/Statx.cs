namespace Bhyve.Aot.Interop;

/// <summary>statx(2): syscall number, mask bits and the struct statx offsets we read (linux/stat.h, checked with offsetof).</summary>
internal static class Statx
{
    public const long SyscallNumber = 332;
    public const int AtFdCwd = -100;
    public const uint MaskType = 0x1, MaskMode = 0x2, MaskUid = 0x8, MaskGid = 0x10;
    public const int Size = 256, UidOffset = 20, GidOffset = 24, ModeOffset = 28;
}
