namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// The controller registers in BAR0 (NVMe 1.4 §3.1) and the bits of CAP, CC and CSTS we use. Doorbells start at
/// 0x1000 with a stride of 4 bytes (CAP.DSTRD = 0): SQ y tail at 0x1000 + 8y, CQ y head at 0x1000 + 8y + 4.
/// </summary>
public static class NvmeRegisters
{
    public const int Cap = 0x00, Version = 0x08, Intms = 0x0C, Intmc = 0x10, Cc = 0x14, Csts = 0x1C, Nssr = 0x20;
    public const int Aqa = 0x24, Asq = 0x28, Acq = 0x30;
    public const int DoorbellBase = 0x1000, DoorbellStride = 4;
    public const uint Version14 = 0x0001_0400;
    public const int PageSize = 4096;

    // CC
    public const uint CcEnable = 1;
    public static int CcCss(uint cc) => (int)(cc >> 4) & 7;
    public static int CcMps(uint cc) => (int)(cc >> 7) & 0xF;
    public static int CcAms(uint cc) => (int)(cc >> 11) & 7;
    public static int CcShn(uint cc) => (int)(cc >> 14) & 3;
    public static int CcIosqes(uint cc) => (int)(cc >> 16) & 0xF;
    public static int CcIocqes(uint cc) => (int)(cc >> 20) & 0xF;

    // CSTS
    public const uint CstsReady = 1, CstsFatal = 2;
    public const uint CstsShutdownProcessing = 1 << 2, CstsShutdownComplete = 2 << 2, CstsShutdownMask = 3 << 2;

    /// <summary>
    /// CAP: MQES = maxEntries-1, CQR=1 (queues must be contiguous: we take no PRP lists for queues), TO in 500 ms
    /// units, DSTRD=0, CSS = NVM command set only, MPSMIN = MPSMAX = 0 (4 KiB pages only).
    /// </summary>
    public static ulong Capabilities(int maxQueueEntries, int timeoutHalfSeconds)
    {
        ulong cap = (ulong)(maxQueueEntries - 1) & 0xFFFF;
        cap |= 1UL << 16;                                 // CQR
        cap |= (ulong)(timeoutHalfSeconds & 0xFF) << 24;  // TO
        cap |= 1UL << 37;                                 // CSS: NVM command set
        return cap;
    }

    /// <summary>AQA: admin SQ and CQ sizes, both 0-based 12-bit fields.</summary>
    public static int AdminSqEntries(uint aqa) => (int)(aqa & 0xFFF) + 1;
    public static int AdminCqEntries(uint aqa) => (int)((aqa >> 16) & 0xFFF) + 1;
}
