namespace Bhyve.Aot.Devices.Nvme;

/// <summary>Admin command opcodes (NVMe 1.4 §5) this controller knows.</summary>
public static class NvmeAdminOpcode
{
    public const byte DeleteIoSq = 0x00, CreateIoSq = 0x01, GetLogPage = 0x02, DeleteIoCq = 0x04, CreateIoCq = 0x05;
    public const byte Identify = 0x06, Abort = 0x08, SetFeatures = 0x09, GetFeatures = 0x0A, AsyncEventRequest = 0x0C;
    public const byte DoorbellBufferConfig = 0x7C;
}

/// <summary>NVM command set I/O opcodes (NVMe 1.4 §6).</summary>
public static class NvmeIoOpcode
{
    public const byte Flush = 0x00, Write = 0x01, Read = 0x02, WriteZeroes = 0x08, DatasetManagement = 0x09;
}
