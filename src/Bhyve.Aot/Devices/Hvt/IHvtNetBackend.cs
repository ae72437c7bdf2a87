namespace Bhyve.Aot.Devices.Hvt;

/// <summary>A frame pipe behind one hvt network device (a tap interface): non-blocking, one frame per call.</summary>
public unsafe interface IHvtNetBackend : IDisposable
{
    /// <summary>The descriptor the poll hypercall waits on for received frames.</summary>
    int Fd { get; }
    ulong Mac { get; }
    ushort Mtu { get; }
    /// <summary>Sends one frame; a Solo5Result.</summary>
    int Write(byte* frame, ulong length);
    /// <summary>Receives one frame into buffer; Solo5Result.Again when none is waiting.</summary>
    int Read(byte* buffer, ulong capacity, out ulong length);
}
