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
public sealed class ShadowDoorbells
{
    /// <summary>Queue slots in one 4 KiB page: 1024 dwords, two per queue.</summary>
    public const int MaxQueueId = 511;

    // SAFETY: each points at a whole 4 KiB page of guest RAM, translated by the Doorbell Buffer Config command before it constructs us.
    private readonly unsafe uint* _shadow, _eventIdx;

    // SAFETY: the caller passes two translated, page-aligned 4 KiB guest pages (NvmeAdminCommands: DoorbellBufferConfig).
    public unsafe ShadowDoorbells(uint* shadow, uint* eventIdx)
    {
        _shadow = shadow;
        _eventIdx = eventIdx;
    }

    // SAFETY (this and the seven below): the command refuses controllers with more than MaxQueueId I/O queues and qid is a created queue's id, so 2 * qid + 1 < 1024 dwords stays inside each page.
    public unsafe uint SqTail(int qid) => Volatile.Read(ref _shadow[2 * qid]);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe uint CqHead(int qid) => Volatile.Read(ref _shadow[2 * qid + 1]);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe void MirrorSqTail(int qid, uint value) => Volatile.Write(ref _shadow[2 * qid], value);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe void MirrorCqHead(int qid, uint value) => Volatile.Write(ref _shadow[2 * qid + 1], value);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe void SetSqEventIdx(int qid, ushort value) => Volatile.Write(ref _eventIdx[2 * qid], value);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe void SetCqEventIdx(int qid, ushort value) => Volatile.Write(ref _eventIdx[2 * qid + 1], value);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe uint SqEventIdx(int qid) => Volatile.Read(ref _eventIdx[2 * qid]);
    // SAFETY: 2 * qid + 1 < 1024, as above.
    public unsafe uint CqEventIdx(int qid) => Volatile.Read(ref _eventIdx[2 * qid + 1]);

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
