namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// Storage behind one hvt block device. The hypercall device has already checked the range against the
/// capacity and translated the guest buffer; the backend moves the bytes and answers a Solo5Result.
/// </summary>
public interface IHvtBlockBackend : IDisposable
{
    ulong Capacity { get; }
    ushort BlockSize { get; }
    // SAFETY: callers pass length bytes of guest RAM they checked writable (HvtHypercalls.Out)
    unsafe int Read(ulong offset, byte* buffer, ulong length);
    // SAFETY: callers pass length bytes of guest RAM they checked readable (HvtHypercalls.In)
    unsafe int Write(ulong offset, byte* buffer, ulong length);
}
