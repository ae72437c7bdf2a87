namespace Bhyve.Aot.Interop;

/// <summary>KVM ioctl request numbers (linux/kvm.h, x86-64), checked against the kernel headers with a C probe.</summary>
internal static class KvmIoctl
{
    public const nuint GetApiVersion = 0xAE00;
    public const nuint CreateVm = 0xAE01;
    public const nuint GetMsrIndexList = 0xC004AE02;
    public const nuint CheckExtension = 0xAE03;
    public const nuint GetVcpuMmapSize = 0xAE04;
    public const nuint GetSupportedCpuid = 0xC008AE05;
    public const nuint CreateVcpu = 0xAE41;
    public const nuint SetUserMemoryRegion = 0x4020AE46;
    public const nuint SetTssAddr = 0xAE47;
    public const nuint SetIdentityMapAddr = 0x4008AE48;
    public const nuint CreateIrqchip = 0xAE60;
    public const nuint IrqLine = 0x4008AE61;
    public const nuint SetGsiRouting = 0x4008AE6A;
    public const nuint Irqfd = 0x4020AE76;
    public const nuint CreatePit2 = 0x4040AE77;
    public const nuint Ioeventfd = 0x4040AE79;
    public const nuint Run = 0xAE80;
    public const nuint GetRegs = 0x8090AE81;
    public const nuint SetRegs = 0x4090AE82;
    public const nuint GetSregs = 0x8138AE83;
    public const nuint SetSregs = 0x4138AE84;
    public const nuint SetMsrs = 0x4008AE89;
    public const nuint SetCpuid2 = 0x4008AE90;
    public const nuint SetTscKhz = 0xAEA2;
    public const nuint GetTscKhz = 0xAEA3;
    public const nuint SignalMsi = 0x4020AEA5;

    public const int ApiVersion = 12;
}

/// <summary>KVM_CAP_* numbers we query.</summary>
public enum KvmCap
{
    Irqchip = 0,
    Hlt = 1,
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    NrVcpus = 9,
    NrMemslots = 10,
    MpState = 14,
    CoalescedMmio = 15,
    SyncMmu = 16,
    IrqRouting = 25,
    Irqfd = 32,
    Pit2 = 33,
    Ioeventfd = 36,
    SetIdentityMapAddr = 37,
    AdjustClock = 39,
    InternalErrorData = 40,
    VcpuEvents = 41,
    Xsave = 55,
    TscControl = 60,
    GetTscKhz = 61,
    MaxVcpus = 66,
    SignalMsi = 77,
    ReadonlyMem = 81,
    IrqfdResample = 82,
    SplitIrqchip = 121,
    ImmediateExit = 136,
}

/// <summary>kvm_run.exit_reason values.</summary>
internal enum KvmExitReason : uint
{
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    Nmi = 16,
    InternalError = 17,
    SystemEvent = 24,
}
