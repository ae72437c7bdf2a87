namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// Doorbell Buffer Config (NVMe 1.3 §5.7, OACS bit 8): two guest pages, one where the driver writes every new SQ
/// tail and CQ head (the shadow), one where we write the EventIdx values that tell it when it must still ring the
/// real doorbell. Slot y of a page: SQ y at dword 2y, CQ y at dword 2y+1 (the doorbell layout with DSTRD = 0).
///
/// The driver's rule (Linux nvme_dbbuf_update_and_check_event): write the shadow, full fence, read EventIdx, ring
/// only if EventIdx lies in [old, new) modulo 2^16. So the device writes EventIdx = the value it has consumed up to
/// just before it sleeps (then any later write rings), and keeps it behind while it is awake (no rings needed).
/// The shadow is the single source of truth for I/O queues; for the admin queue, which Linux rings by MMIO only,
/// the MMIO value is mirrored into the shadow.
/// </summary>
public sealed unsafe class ShadowDoorbells(uint* shadow, uint* eventIdx)
{
    /// <summary>Queue slots in one 4 KiB page: 1024 dwords, two per queue.</summary>
    public const int MaxQueueId = 511;

    public uint SqTail(int qid) => Volatile.Read(ref shadow[2 * qid]);
    public uint CqHead(int qid) => Volatile.Read(ref shadow[2 * qid + 1]);
    public void MirrorSqTail(int qid, uint value) => Volatile.Write(ref shadow[2 * qid], value);
    public void MirrorCqHead(int qid, uint value) => Volatile.Write(ref shadow[2 * qid + 1], value);
    public void SetSqEventIdx(int qid, ushort value) => Volatile.Write(ref eventIdx[2 * qid], value);
    public void SetCqEventIdx(int qid, ushort value) => Volatile.Write(ref eventIdx[2 * qid + 1], value);
    public uint SqEventIdx(int qid) => Volatile.Read(ref eventIdx[2 * qid]);
    public uint CqEventIdx(int qid) => Volatile.Read(ref eventIdx[2 * qid + 1]);

    /// <summary>The driver's decision, as Linux makes it: ring when `eventIdx` lies in [old, new) modulo 2^16.</summary>
    public static bool DriverMustRing(ushort eventIdx, ushort newValue, ushort oldValue) =>
        (ushort)(newValue - eventIdx - 1) < (ushort)(newValue - oldValue);

    /// <summary>
    /// The CQ EventIdx while the device is not waiting for the CQ to drain: one slot behind the head it last saw
    /// (inside the queue, so it never equals the tail: propolis #1026), which the driver's head only passes after a
    /// full lap, so head updates stay silent.
    /// </summary>
    public static ushort QuietCqEventIdx(ushort knownHead, ushort size) => knownHead == 0 ? (ushort)(size - 1) : (ushort)(knownHead - 1);
}
