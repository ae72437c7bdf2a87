using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>A KVM virtual machine: memory slots, the in-kernel interrupt controllers, vCPUs.</summary>
public sealed class Vm : IDisposable
{
    // Three pages just below the BIOS area at the top of 4 GiB, inside our MMIO hole: VMX needs them
    // for real-mode emulation (TSS) and unrestricted-guest-less paging (identity map); no RAM lives there.
    public const ulong IdentityMapAddress = 0xFFFB_C000;
    public const ulong TssAddress = 0xFFFB_D000;

    private int _fd;
    private uint _nextSlot;

    internal Vm(KvmHost host, int fd)
    {
        Host = host;
        _fd = fd;
    }

    public KvmHost Host { get; }
    internal int Fd => _fd;

    /// <summary>KVM_MEM_READONLY: guest writes to the slot exit to user space as MMIO writes.</summary>
    public const uint MemReadOnly = 1 << 1;

    /// <summary>Maps host memory at a guest-physical address (KVM_SET_USER_MEMORY_REGION); readOnly needs KVM_CAP_READONLY_MEM.</summary>
    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes; the host range is the caller's mapping, which outlives the VM
    public unsafe void MapMemory(ulong guestPhysical, ulong size, nint hostAddress, bool readOnly = false)
    {
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = _nextSlot++,
            Flags = readOnly ? MemReadOnly : 0,
            GuestPhysAddr = guestPhysical,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        };
        if (Libc.Ioctl(_fd, KvmIoctl.SetUserMemoryRegion, &region) < 0)
            throw new KvmException($"KVM_SET_USER_MEMORY_REGION at 0x{guestPhysical:x}", Libc.LastErrno);
    }

    /// <summary>Sets up the x86 platform pieces KVM keeps in the kernel: TSS/identity pages, PIC+IOAPIC+LAPIC, PIT.</summary>
    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    public unsafe void CreatePlatform()
    {
        SetSystemPages();
        if (Libc.Ioctl(_fd, KvmIoctl.CreateIrqchip, 0) < 0)
            throw new KvmException("KVM_CREATE_IRQCHIP", Libc.LastErrno);
        var pit = new KvmPitConfig();
        if (Libc.Ioctl(_fd, KvmIoctl.CreatePit2, &pit) < 0)
            throw new KvmException("KVM_CREATE_PIT2", Libc.LastErrno);
    }

    /// <summary>
    /// Only the TSS and identity-map pages, no interrupt controllers or timer: a machine whose every port and
    /// MMIO access must reach user space (a Solo5 hvt guest, which has no devices but hypercall ports).
    /// </summary>
    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    public unsafe void SetSystemPages()
    {
        if (Host.CheckExtension(KvmCap.SetIdentityMapAddr) > 0)
        {
            ulong addr = IdentityMapAddress;
            if (Libc.Ioctl(_fd, KvmIoctl.SetIdentityMapAddr, &addr) < 0)
                throw new KvmException("KVM_SET_IDENTITY_MAP_ADDR", Libc.LastErrno);
        }
        if (Host.CheckExtension(KvmCap.SetTssAddr) > 0 && Libc.Ioctl(_fd, KvmIoctl.SetTssAddr, (nuint)TssAddress) < 0)
            throw new KvmException("KVM_SET_TSS_ADDR", Libc.LastErrno);
    }

    /// <summary>Drives an in-kernel PIC/IOAPIC input (KVM_IRQ_LINE).</summary>
    // SAFETY: two u32s on our stack, the struct kvm_irq_level KVM_IRQ_LINE reads
    public unsafe void SetIrqLine(int gsi, bool level)
    {
        uint* irqLevel = stackalloc uint[2] { (uint)gsi, level ? 1u : 0u };
        if (Libc.Ioctl(_fd, KvmIoctl.IrqLine, irqLevel) < 0) throw new KvmException($"KVM_IRQ_LINE {gsi}", Libc.LastErrno);
    }

    /// <summary>Lets KVM complete guest writes to [address, address+length) by signalling fd, with no exit to us.</summary>
    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    public unsafe void SetIoeventfd(ulong address, uint length, int fd, bool portIo, bool assign)
    {
        var request = new KvmIoeventfd
        {
            Addr = address,
            Len = length,
            Fd = fd,
            Flags = (portIo ? KvmIoeventfd.FlagPio : 0) | (assign ? 0 : KvmIoeventfd.FlagDeassign),
        };
        if (Libc.Ioctl(_fd, KvmIoctl.Ioeventfd, &request) < 0)
            throw new KvmException($"KVM_IOEVENTFD at 0x{address:x}", Libc.LastErrno);
    }

    /// <summary>Makes a write to fd inject the interrupt routed at gsi.</summary>
    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    public unsafe void SetIrqfd(int fd, uint gsi, bool assign)
    {
        var request = new KvmIrqfd { Fd = (uint)fd, Gsi = gsi, Flags = assign ? 0 : KvmIrqfd.FlagDeassign };
        if (Libc.Ioctl(_fd, KvmIoctl.Irqfd, &request) < 0) throw new KvmException($"KVM_IRQFD gsi {gsi}", Libc.LastErrno);
    }

    /// <summary>Replaces the whole GSI routing table (KVM_SET_GSI_ROUTING).</summary>
    // SAFETY: the stack buffer is 8 header bytes plus entries.Length entries, exactly what the copy writes and KVM reads; the table is the machine's few routes
    internal unsafe void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries)
    {
        int bytes = 8 + entries.Length * sizeof(KvmIrqRoutingEntry);
        byte* buffer = stackalloc byte[bytes];
        *(uint*)buffer = (uint)entries.Length;
        *(uint*)(buffer + 4) = 0;
        entries.CopyTo(new Span<KvmIrqRoutingEntry>(buffer + 8, entries.Length));
        if (Libc.Ioctl(_fd, KvmIoctl.SetGsiRouting, buffer) < 0) throw new KvmException("KVM_SET_GSI_ROUTING", Libc.LastErrno);
    }

    public Vcpu CreateVcpu(int index)
    {
        int fd = Libc.Ioctl(_fd, KvmIoctl.CreateVcpu, (nuint)index);
        if (fd < 0) throw new KvmException($"KVM_CREATE_VCPU {index}", Libc.LastErrno);
        return new Vcpu(this, index, fd, Host.VcpuMmapSize);
    }

    public void Dispose()
    {
        if (_fd >= 0) { Libc.Close(_fd); _fd = -1; }
    }
}
