using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>What the SMART / Health log reports, gathered by the queue processor.</summary>
internal struct NvmeHealthCounters
{
    public ulong BlocksRead, BlocksWritten, ReadCommands, WriteCommands, MediaErrors;
}

/// <summary>
/// Get Log Page (NVMe 1.4 §5.14): Error Information (one 64-byte entry, empty), SMART / Health Information
/// (512 bytes), Firmware Slot Information (512 bytes). Offsets must be dword aligned and inside the log (QEMU's
/// changed-namespace-list overread, CVE-2021-3947, came from not checking that); transfers stop at the log's end.
/// </summary>
internal static class NvmeLogPages
{
    public const byte ErrorInformation = 0x01, SmartHealth = 0x02, FirmwareSlot = 0x03;
    public const int MaxLogBytes = 512;

    /// <summary>Builds log `lid` into `log` (MaxLogBytes long) and returns its size, or -1 for an unknown log page.</summary>
    public static int Build(byte lid, Span<byte> log, in NvmeHealthCounters health, uint blockSize, string firmware)
    {
        log.Clear();
        switch (lid)
        {
            case ErrorInformation:
                return 64;
            case SmartHealth:
                BinaryPrimitives.WriteUInt16LittleEndian(log[1..], 296);  // composite temperature: 23 °C
                log[3] = 100;                                              // available spare %
                log[4] = 10;                                               // available spare threshold %
                // Data units are thousands of 512-byte units, rounded up.
                WriteUInt128(log[32..], DataUnits(health.BlocksRead, blockSize));
                WriteUInt128(log[48..], DataUnits(health.BlocksWritten, blockSize));
                WriteUInt128(log[64..], health.ReadCommands);
                WriteUInt128(log[80..], health.WriteCommands);
                WriteUInt128(log[160..], health.MediaErrors);
                return 512;
            case FirmwareSlot:
                log[0] = 1;                                                // active slot 1
                for (int i = 0; i < 8; i++) log[8 + i] = i < firmware.Length ? (byte)firmware[i] : (byte)' ';
                return 512;
            default:
                return -1;
        }
    }

    /// <summary>Validates a Get Log Page against a log of `size` bytes; on success gives the bytes to transfer.</summary>
    public static ushort Window(ulong offset, ulong requested, int size, out int start, out int length)
    {
        start = length = 0;
        if ((offset & 3) != 0 || offset >= (ulong)size) return NvmeStatus.InvalidField;
        start = (int)offset;
        length = (int)Math.Min(requested, (ulong)(size - start));
        return NvmeStatus.Success;
    }

    private static ulong DataUnits(ulong blocks, uint blockSize) => (blocks * (blockSize / 512) + 999) / 1000;

    private static void WriteUInt128(Span<byte> at, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(at, value);
        BinaryPrimitives.WriteUInt64LittleEndian(at[8..], 0);
    }
}
