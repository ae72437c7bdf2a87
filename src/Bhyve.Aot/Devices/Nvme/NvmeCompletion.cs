namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// A 16-byte completion queue entry (NVMe 1.4 §4.6): DW0 result, DW2 SQ head and SQ id, DW3 command id, phase
/// tag and status. Posted with DW3 last and as a release store, so a guest that sees the new phase sees the rest.
/// </summary>
public static class NvmeCompletion
{
    public const int Size = 16;

    public static uint Dword3(ushort commandId, bool phase, ushort status) =>
        commandId | (phase ? 1u << 16 : 0) | ((uint)status << 17);

    // SAFETY: callers pass an entry inside a translated CQ ring (CompletionQueue.Post: Entries + Tail * 16, Tail < Size), and 16 bytes are written
    public static unsafe void Post(byte* slot, uint result, ushort sqHead, ushort sqId, ushort commandId, bool phase, ushort status)
    {
        uint* d = (uint*)slot;
        d[0] = result;
        d[1] = 0;
        d[2] = sqHead | ((uint)sqId << 16);
        Volatile.Write(ref d[3], Dword3(commandId, phase, status));
    }

    public static bool PhaseOf(uint dword3) => (dword3 & (1u << 16)) != 0;
    public static ushort StatusOf(uint dword3) => (ushort)(dword3 >> 17);
}
