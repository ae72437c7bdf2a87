namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// Completion status, as the 15-bit Status Field of CQE dword 3 (bits 31:17): SC[7:0], SCT[10:8], CRD[12:11],
/// M[13], DNR[14]. One table of every status this controller reports (NVMe 1.4 §4.6.1); validation failures carry
/// Do Not Retry, as QEMU does, because retrying the same bad command cannot succeed.
/// </summary>
public static class NvmeStatus
{
    public const ushort Dnr = 1 << 14;
    private const ushort Generic = 0 << 8, CommandSpecific = 1 << 8, Media = 2 << 8;

    public const ushort Success = 0;
    public const ushort InvalidOpcode = Generic | 0x01 | Dnr;
    public const ushort InvalidField = Generic | 0x02 | Dnr;
    public const ushort DataTransferError = Generic | 0x04 | Dnr;
    public const ushort InternalError = Generic | 0x06;
    public const ushort AbortedByRequest = Generic | 0x07;
    public const ushort AbortedSqDeletion = Generic | 0x08;
    public const ushort InvalidNamespace = Generic | 0x0B | Dnr;
    public const ushort CommandSequenceError = Generic | 0x0C | Dnr;
    public const ushort InvalidPrpOffset = Generic | 0x13 | Dnr;
    public const ushort NamespaceWriteProtected = Generic | 0x20 | Dnr;
    public const ushort LbaOutOfRange = Generic | 0x80 | Dnr;
    public const ushort CapacityExceeded = Generic | 0x81 | Dnr;

    public const ushort CompletionQueueInvalid = CommandSpecific | 0x00 | Dnr;
    public const ushort InvalidQueueIdentifier = CommandSpecific | 0x01 | Dnr;
    public const ushort InvalidQueueSize = CommandSpecific | 0x02 | Dnr;
    public const ushort AerLimitExceeded = CommandSpecific | 0x05 | Dnr;
    public const ushort InvalidInterruptVector = CommandSpecific | 0x08 | Dnr;
    public const ushort InvalidLogPage = CommandSpecific | 0x09 | Dnr;
    public const ushort InvalidQueueDeletion = CommandSpecific | 0x0C | Dnr;
    public const ushort FeatureNotSaveable = CommandSpecific | 0x0D | Dnr;
    public const ushort FeatureNotChangeable = CommandSpecific | 0x0E | Dnr;
    public const ushort FeatureNotNamespaceSpecific = CommandSpecific | 0x0F | Dnr;

    public const ushort WriteFault = Media | 0x80;
    public const ushort UnrecoveredReadError = Media | 0x81;

    public static int TypeOf(ushort status) => (status >> 8) & 7;
    public static int CodeOf(ushort status) => status & 0xFF;
    public static bool DoNotRetry(ushort status) => (status & Dnr) != 0;

    /// <summary>
    /// The status of a finished backend request: the whole transfer (expected bytes; 0 for flush and deallocation)
    /// is success; a short transfer or an errno is a media error for data, an internal error for the rest.
    /// ENOSPC on a write means the host file system is full: Capacity Exceeded tells the guest exactly that.
    /// </summary>
    public static ushort FromBackend(NvmeBackendOp op, int result, ulong expected)
    {
        const int ENOSPC = 28;
        if (result >= 0 && (ulong)result == expected) return Success;
        return op switch
        {
            NvmeBackendOp.Read => UnrecoveredReadError,
            NvmeBackendOp.Write when result == -ENOSPC => CapacityExceeded,
            NvmeBackendOp.Write or NvmeBackendOp.Flush or NvmeBackendOp.WriteZeroes => WriteFault,
            _ => InternalError,
        };
    }
}

/// <summary>What a backend request did, for status mapping.</summary>
public enum NvmeBackendOp : byte { Read, Write, Flush, WriteZeroes, Deallocate }
