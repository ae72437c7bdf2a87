namespace Bhyve.Aot.Devices.Hvt;

/// <summary>A frame pipe behind one hvt network device (a tap interface): non-blocking, one frame per call.</summary>
public interface IHvtNetBackend : IDisposable
{
    /// <summary>The descriptor the poll hypercall waits on for received frames.</summary>
    int Fd { get; }
    ulong Mac { get; }
    ushort Mtu { get; }
    /// <summary>Sends one frame; a Solo5Result.</summary>
    // SAFETY: callers pass length bytes of guest RAM they checked readable (HvtHypercalls.In)
    unsafe int Write(byte* frame, ulong length);
    /// <summary>Receives one frame into buffer; Solo5Result.Again when none is waiting.</summary>
    // SAFETY: callers pass capacity bytes of guest RAM they checked writable (HvtHypercalls.Out)
    unsafe int Read(byte* buffer, ulong capacity, out ulong length);
}
