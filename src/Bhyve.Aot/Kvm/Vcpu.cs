using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>One virtual CPU: its fd, its mmap'd kvm_run page, register access and KVM_RUN.</summary>
public sealed class Vcpu : IVcpu, IDisposable
{
    private int _fd;
    // SAFETY: the vCPU's kvm_run page, mapped (runSize bytes, KVM_GET_VCPU_MMAP_SIZE) from construction until Dispose
    private readonly unsafe byte* _run;
    private readonly int _runSize;

    // SAFETY: stores the page only when mmap succeeded; runSize is KVM's own size for it
    internal unsafe Vcpu(Vm vm, int index, int fd, int runSize)
    {
        Vm = vm;
        Index = index;
        _fd = fd;
        _runSize = runSize;
        nint p = Libc.Mmap(0, (nuint)runSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        if (p == Libc.MAP_FAILED)
        {
            int errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new KvmException("mmap kvm_run", errno);
        }
        _run = (byte*)p;
    }

    public Vm Vm { get; }
    public int Index { get; }

    /// <summary>KVM_GET_TSC_KHZ: the guest TSC frequency in kHz, or the errno as a negative number.</summary>
    internal int GetTscKhz()
    {
        int khz = Libc.Ioctl(_fd, KvmIoctl.GetTscKhz, 0);
        return khz >= 0 ? khz : -Libc.LastErrno;
    }

    /// <summary>The shared kvm_run page; valid for the vCPU's lifetime.</summary>
    // SAFETY: the page stays mapped for the vCPU's lifetime; users read kvm_run fields at KvmRunLayout offsets inside runSize
    public unsafe byte* RunPage => _run;

    // SAFETY: KvmRunLayout.ExitReason lies inside the mapped kvm_run page
    internal unsafe KvmExitReason ExitReason => (KvmExitReason)(*(uint*)(_run + KvmRunLayout.ExitReason));

    /// <summary>KVM_RUN once. Returns 0, or the errno (EINTR when a signal or immediate_exit kicked us).</summary>
    public int Run() => Libc.Ioctl(_fd, KvmIoctl.Run, 0) < 0 ? Libc.LastErrno : 0;

    /// <summary>Asks the next KVM_RUN to return at once with EINTR (used to stop the vCPU).</summary>
    // SAFETY: KvmRunLayout.ImmediateExit lies inside the mapped kvm_run page; callers stop kicking before Dispose
    public unsafe void RequestImmediateExit() => Volatile.Write(ref _run[KvmRunLayout.ImmediateExit], 1);

    // SAFETY: KvmRunLayout.ImmediateExit lies inside the mapped kvm_run page, which stays mapped while the vCPU runs
    public unsafe void ClearImmediateExit() => Volatile.Write(ref _run[KvmRunLayout.ImmediateExit], 0);

    public ulong Rip()
    {
        try { return GetRegs().Rip; }
        catch (KvmException) { return 0; }
    }

    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    internal unsafe KvmRegs GetRegs()
    {
        KvmRegs regs;
        if (Libc.Ioctl(_fd, KvmIoctl.GetRegs, &regs) < 0) throw new KvmException("KVM_GET_REGS", Libc.LastErrno);
        return regs;
    }

    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    internal unsafe void SetRegs(in KvmRegs regs)
    {
        fixed (KvmRegs* p = &regs)
            if (Libc.Ioctl(_fd, KvmIoctl.SetRegs, p) < 0) throw new KvmException("KVM_SET_REGS", Libc.LastErrno);
    }

    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    internal unsafe KvmSregs GetSregs()
    {
        KvmSregs sregs;
        if (Libc.Ioctl(_fd, KvmIoctl.GetSregs, &sregs) < 0) throw new KvmException("KVM_GET_SREGS", Libc.LastErrno);
        return sregs;
    }

    // SAFETY: the ioctl reads (or fills) exactly the struct on our stack, of the type its request number encodes
    internal unsafe void SetSregs(in KvmSregs sregs)
    {
        fixed (KvmSregs* p = &sregs)
            if (Libc.Ioctl(_fd, KvmIoctl.SetSregs, p) < 0) throw new KvmException("KVM_SET_SREGS", Libc.LastErrno);
    }

    /// <summary>
    /// KVM_SET_MSRS for one MSR, as the host (firmware) writes it. False when KVM declined the value (its nmsrs
    /// result is the count it set); the caller decides whether that matters.
    /// </summary>
    // SAFETY: the kvm_msrs header (nmsrs, pad) and its one kvm_msr_entry (index, reserved, data) live in a
    // 24-byte stack buffer that outlives the ioctl; KVM reads exactly nmsrs = 1 entry from it.
    internal unsafe bool TrySetMsr(uint index, ulong value)
    {
        byte* buffer = stackalloc byte[24];
        *(uint*)buffer = 1;
        *(uint*)(buffer + 4) = 0;
        *(uint*)(buffer + 8) = index;
        *(uint*)(buffer + 12) = 0;
        *(ulong*)(buffer + 16) = value;
        return Libc.Ioctl(_fd, KvmIoctl.SetMsrs, buffer) == 1;
    }

    // SAFETY: the pinned buffer is sized for the 8-byte header plus entries.Length entries, exactly what the copy writes and KVM reads
    internal unsafe void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int bytes = 8 + entries.Length * sizeof(KvmCpuidEntry2);
        var buffer = new byte[bytes];
        fixed (byte* p = buffer)
        {
            *(uint*)p = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(p + 8, entries.Length));
            if (Libc.Ioctl(_fd, KvmIoctl.SetCpuid2, p) < 0) throw new KvmException("KVM_SET_CPUID2", Libc.LastErrno);
        }
    }

    // SAFETY: unmaps the page once (fd >= 0 guards a second call) with the size it was mapped with
    public unsafe void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.Munmap((nint)_run, (nuint)_runSize);
            Libc.Close(_fd);
            _fd = -1;
        }
    }
}
