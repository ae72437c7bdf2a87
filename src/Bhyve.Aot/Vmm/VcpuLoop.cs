using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Vmm;

/// <summary>Counts of VM exits taken to user space by one vCPU, read by benchmarks to report exits per I/O.</summary>
public struct ExitCounters
{
    public long Io, Mmio, Interrupted, Other;
    public readonly long Total => Io + Mmio + Interrupted + Other;
}

/// <summary>
/// The KVM_RUN loop of one vCPU: run, dispatch the exit to the port or MMIO bus straight from the shared
/// kvm_run page (no copies, no allocation), repeat until the machine stops or the guest ends the run.
/// </summary>
internal sealed class VcpuLoop(IVcpu vcpu, IoBus ports, IoBus mmio, IVmLifecycle lifecycle)
{
    public ExitCounters Counters;

    // SAFETY: the kvm_run page stays mapped while the vCPU exists, and this loop ends before the vCPU is disposed
    public unsafe VmExit Run()
    {
        byte* run = vcpu.RunPage;
        while (!lifecycle.Stopping)
        {
            if (lifecycle.PauseRequested) { lifecycle.Park(vcpu.Index); continue; }
            int errno = vcpu.Run();
            if (errno != 0)
            {
                if (errno == Libc.EINTR || errno == Libc.EAGAIN)
                {
                    // Stop and pause set their flag before asking for the exit, so clearing it here loses neither.
                    vcpu.ClearImmediateExit();
                    Counters.Interrupted++;
                    continue;
                }
                return new VmExit(ExitCodes.KvmError, $"KVM_RUN failed on vCPU {vcpu.Index}: {Libc.Describe(errno)}");
            }
            var reason = (KvmExitReason)(*(uint*)(run + KvmRunLayout.ExitReason));
            switch (reason)
            {
                case KvmExitReason.Io:
                    Counters.Io++;
                    DispatchIo(run);
                    break;
                case KvmExitReason.Mmio:
                    Counters.Mmio++;
                    DispatchMmio(run);
                    break;
                case KvmExitReason.Intr:
                    Counters.Interrupted++;
                    break;
                case KvmExitReason.Shutdown:
                    return new VmExit(ExitCodes.TripleFault, $"guest triple-faulted (KVM_EXIT_SHUTDOWN) on vCPU {vcpu.Index}, RIP 0x{Rip():x}");
                case KvmExitReason.SystemEvent:
                    return SystemEvent(*(uint*)(run + KvmRunLayout.SystemEventType));
                case KvmExitReason.InternalError:
                    return InternalError(run);
                case KvmExitReason.FailEntry:
                    return new VmExit(ExitCodes.KvmError,
                        $"VM entry failed on vCPU {vcpu.Index} (hardware reason 0x{*(ulong*)(run + KvmRunLayout.HardwareReason):x}), RIP 0x{Rip():x}");
                default:
                    Counters.Other++;
                    return new VmExit(ExitCodes.KvmError, $"unhandled VM exit {reason} ({(uint)reason}) on vCPU {vcpu.Index}, RIP 0x{Rip():x}");
            }
        }
        return lifecycle.Result;
    }

    // SAFETY: KVM puts count items of size bytes at data_offset inside the kvm_run mapping (its KVM_EXIT_IO contract); the fixed fields lie at KvmRunLayout offsets inside it
    private unsafe void DispatchIo(byte* run)
    {
        bool isOut = run[KvmRunLayout.IoDirection] == 1;
        int size = run[KvmRunLayout.IoSize];
        ushort port = *(ushort*)(run + KvmRunLayout.IoPort);
        uint count = *(uint*)(run + KvmRunLayout.IoCount);
        byte* data = run + *(ulong*)(run + KvmRunLayout.IoDataOffset);
        // String I/O (rep outsb and friends) arrives as count consecutive items in the data area.
        for (uint i = 0; i < count; i++, data += size)
        {
            if (isOut) ports.Write(port, new ReadOnlySpan<byte>(data, size));
            else ports.Read(port, new Span<byte>(data, size));
        }
    }

    // SAFETY: the data field holds 8 bytes and length is checked to be 1-8 first
    private unsafe void DispatchMmio(byte* run)
    {
        ulong address = *(ulong*)(run + KvmRunLayout.MmioPhysAddr);
        uint length = *(uint*)(run + KvmRunLayout.MmioLen);
        if (length is 0 or > 8) return;
        var data = new Span<byte>(run + KvmRunLayout.MmioData, (int)length);
        if (run[KvmRunLayout.MmioIsWrite] != 0) mmio.Write(address, data);
        else mmio.Read(address, data);
    }

    private VmExit SystemEvent(uint type) => type switch
    {
        1 => new VmExit(ExitCodes.PoweredOff, null),
        2 => new VmExit(ExitCodes.Reset, $"guest requested a reset on vCPU {vcpu.Index}"),
        _ => new VmExit(ExitCodes.KvmError, $"guest system event {type} on vCPU {vcpu.Index} (crash or unsupported)"),
    };

    // SAFETY: ndata is capped at 16, the size of kvm_run's internal.data array
    private unsafe VmExit InternalError(byte* run)
    {
        uint suberror = *(uint*)(run + KvmRunLayout.InternalSuberror);
        uint ndata = Math.Min(*(uint*)(run + KvmRunLayout.InternalNdata), 16u);
        string kind = suberror switch
        {
            1 => "emulation failure",
            2 => "exception while delivering an exception",
            3 => "event delivery failure",
            4 => "unexpected exit reason",
            _ => "unknown",
        };
        var data = new System.Text.StringBuilder();
        for (uint i = 0; i < ndata; i++) data.Append(i == 0 ? " data" : "").Append(' ').Append($"{((ulong*)(run + KvmRunLayout.InternalData))[i]:x}");
        return new VmExit(ExitCodes.KvmError,
            $"KVM internal error on vCPU {vcpu.Index}: suberror {suberror} ({kind}), RIP 0x{Rip():x}{data}");
    }

    private ulong Rip() => vcpu.Rip();
}
