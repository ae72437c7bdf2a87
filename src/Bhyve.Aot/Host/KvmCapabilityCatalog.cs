using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Host;

/// <summary>The KVM capabilities bhyve-aot relies on, how much, and why.</summary>
public static class KvmCapabilityCatalog
{
    public sealed record Entry(KvmCap Cap, string Name, CapabilityRequirement Requirement, string Purpose);

    public static IReadOnlyList<Entry> Entries { get; } =
    [
        new(KvmCap.UserMemory, "USER_MEMORY", CapabilityRequirement.Required, "guest RAM backed by our own mmap"),
        new(KvmCap.Irqchip, "IRQCHIP", CapabilityRequirement.Required, "in-kernel PIC, IOAPIC and local APICs"),
        new(KvmCap.Pit2, "PIT2", CapabilityRequirement.Required, "in-kernel i8254 timer"),
        new(KvmCap.Ioeventfd, "IOEVENTFD", CapabilityRequirement.Required, "device doorbells without a round trip to user space"),
        new(KvmCap.Irqfd, "IRQFD", CapabilityRequirement.Required, "device interrupts raised through eventfds"),
        new(KvmCap.IrqRouting, "IRQ_ROUTING", CapabilityRequirement.Required, "GSI routing for the IOAPIC and MSIs"),
        new(KvmCap.SignalMsi, "SIGNAL_MSI", CapabilityRequirement.Required, "MSI delivery from user space"),
        new(KvmCap.ExtCpuid, "EXT_CPUID", CapabilityRequirement.Required, "KVM_SET_CPUID2, the guest's CPUID"),
        new(KvmCap.SetTssAddr, "SET_TSS_ADDR", CapabilityRequirement.Required, "the TSS pages x86 KVM needs"),
        new(KvmCap.SyncMmu, "SYNC_MMU", CapabilityRequirement.Required, "guest memory that follows host page changes"),
        new(KvmCap.GetTscKhz, "GET_TSC_KHZ", CapabilityRequirement.Optional, "the guest TSC frequency, for the guest's timekeeping"),
        new(KvmCap.TscControl, "TSC_CONTROL", CapabilityRequirement.Optional, "setting the guest TSC frequency"),
        new(KvmCap.ImmediateExit, "IMMEDIATE_EXIT", CapabilityRequirement.Optional, "stopping a vCPU without a signal"),
        new(KvmCap.Xsave, "XSAVE", CapabilityRequirement.Optional, "AVX and later register state for guests"),
        new(KvmCap.ReadonlyMem, "READONLY_MEM", CapabilityRequirement.Optional, "read-only memory slots (ROM, flash)"),
        new(KvmCap.IrqfdResample, "IRQFD_RESAMPLE", CapabilityRequirement.Optional, "level-triggered interrupts through eventfds"),
        new(KvmCap.SplitIrqchip, "SPLIT_IRQCHIP", CapabilityRequirement.Optional, "an IOAPIC in user space"),
        new(KvmCap.NrVcpus, "NR_VCPUS", CapabilityRequirement.Value, "recommended vCPUs per VM"),
        new(KvmCap.MaxVcpus, "MAX_VCPUS", CapabilityRequirement.Value, "most vCPUs per VM"),
        new(KvmCap.NrMemslots, "NR_MEMSLOTS", CapabilityRequirement.Value, "memory slots per VM"),
    ];
}
