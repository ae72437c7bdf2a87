namespace Bhyve.Aot.Devices.Nvme;

/// <summary>What a controller did, for `run --stats` and benchmarks (exits and interrupts per command).</summary>
public struct NvmeCounters
{
    /// <summary>I/O and admin commands fetched.</summary>
    public long IoCommands, AdminCommands;
    /// <summary>Doorbells that exited to user space (MMIO) and doorbells KVM turned into an eventfd signal.</summary>
    public long MmioDoorbells, EventFdDoorbells;
    public long Interrupts;
    /// <summary>Completions that waited because their CQ was full; commands that waited for backend room.</summary>
    public long CqFullWaits, BackendFull;
    /// <summary>Failures the queue worker's boundary caught (host errors, bugs): each one set CSTS.CFS.</summary>
    public long Faults;

    public void Add(in NvmeCounters o)
    {
        IoCommands += o.IoCommands;
        AdminCommands += o.AdminCommands;
        MmioDoorbells += o.MmioDoorbells;
        EventFdDoorbells += o.EventFdDoorbells;
        Interrupts += o.Interrupts;
        CqFullWaits += o.CqFullWaits;
        BackendFull += o.BackendFull;
        Faults += o.Faults;
    }
}

/// <summary>
/// The doorbell values the guest wrote by MMIO, one SQ tail and one CQ head per queue id. The vCPU thread stores
/// them (release) and kicks the queue processor, which reads and validates them on its own thread.
/// </summary>
internal sealed class NvmeDoorbellValues(int queueIds)
{
    public readonly uint[] SqTail = new uint[queueIds];
    public readonly uint[] CqHead = new uint[queueIds];

    public void Clear()
    {
        Array.Clear(SqTail);
        Array.Clear(CqHead);
    }
}
