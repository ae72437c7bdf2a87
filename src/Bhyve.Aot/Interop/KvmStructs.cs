using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

[StructLayout(LayoutKind.Sequential)]
internal struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present, Dpl, Db, S, L, G, Avl;
    public byte Unusable;
    public byte Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
    public fixed ulong InterruptBitmap[4];
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmCpuidEntry2
{
    public uint Function;
    public uint Index;
    public uint Flags;
    public uint Eax, Ebx, Ecx, Edx;
    public uint Padding0, Padding1, Padding2;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmPitConfig
{
    public uint Flags;
    public fixed uint Padding[15];
}

/// <summary>Byte offsets into the mmap'd struct kvm_run (x86-64), read without marshalling on the exit path.</summary>
internal static class KvmRunLayout
{
    public const int ImmediateExit = 1;
    public const int ExitReason = 8;
    public const int Union = 32;
    // io
    public const int IoDirection = Union + 0;
    public const int IoSize = Union + 1;
    public const int IoPort = Union + 2;
    public const int IoCount = Union + 4;
    public const int IoDataOffset = Union + 8;
    // mmio
    public const int MmioPhysAddr = Union + 0;
    public const int MmioData = Union + 8;
    public const int MmioLen = Union + 16;
    public const int MmioIsWrite = Union + 20;
    // internal error
    public const int InternalSuberror = Union + 0;
    public const int InternalNdata = Union + 4;
    public const int InternalData = Union + 8;
    // fail entry / hw
    public const int HardwareReason = Union + 0;
    // system event
    public const int SystemEventType = Union + 0;
}
