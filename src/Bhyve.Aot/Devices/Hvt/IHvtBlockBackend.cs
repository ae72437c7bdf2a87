namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// Storage behind one hvt block device. The hypercall device has already checked the range against the
/// capacity and translated the guest buffer; the backend moves the bytes and answers a Solo5Result.
/// </summary>
public unsafe interface IHvtBlockBackend : IDisposable
{
    ulong Capacity { get; }
    ushort BlockSize { get; }
    int Read(ulong offset, byte* buffer, ulong length);
    int Write(ulong offset, byte* buffer, ulong length);
}
