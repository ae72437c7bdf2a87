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
internal struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed ulong InterruptBitmap[4];
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
internal struct KvmPitConfig
{
    public uint Flags;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed uint Padding[15];
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

[StructLayout(LayoutKind.Sequential)]
internal struct KvmIoeventfd
{
    public const uint FlagDatamatch = 1, FlagPio = 2, FlagDeassign = 4;
    public ulong Datamatch;
    public ulong Addr;
    public uint Len;
    public int Fd;
    public uint Flags;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed byte Pad[36];
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmIrqfd
{
    public const uint FlagDeassign = 1;
    public uint Fd;
    public uint Gsi;
    public uint Flags;
    public uint ResampleFd;
    // SAFETY: kernel ABI padding of a fixed size; never indexed by our code, only copied whole to and from the kernel
    public unsafe fixed byte Pad[16];
}

/// <summary>struct kvm_irq_routing_entry (48 bytes): an irqchip pin or an MSI message for one GSI.</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct KvmIrqRoutingEntry
{
    public const uint TypeIrqchip = 1, TypeMsi = 2;
    public const uint IrqchipPicMaster = 0, IrqchipPicSlave = 1, IrqchipIoapic = 2;
    [FieldOffset(0)] public uint Gsi;
    [FieldOffset(4)] public uint Type;
    [FieldOffset(8)] public uint Flags;
    // irqchip
    [FieldOffset(16)] public uint Irqchip;
    [FieldOffset(20)] public uint Pin;
    // msi
    [FieldOffset(16)] public uint MsiAddressLo;
    [FieldOffset(20)] public uint MsiAddressHi;
    [FieldOffset(24)] public uint MsiData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public const short PollIn = 1;
    public int Fd;
    public short Events;
    public short Revents;
}
