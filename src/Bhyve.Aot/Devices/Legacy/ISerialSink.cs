namespace Bhyve.Aot.Devices.Legacy;

/// <summary>
/// Where a UART puts the bytes the guest transmits. Called on a vCPU thread with the UART's lock held, so an
/// implementation must never block and should not allocate: a full sink drops the byte and counts it.
/// </summary>
public interface ISerialSink
{
    void Write(byte value);
}
