namespace Bhyve.Aot.Devices;

/// <summary>
/// Where a device's MSI-X vectors go: the VMM routes each vector's message to the interrupt controller
/// (an irqfd per vector under KVM). Route is called on vCPU threads when the guest programs the table;
/// Fire is called on I/O threads and must be cheap (one eventfd write).
/// </summary>
public interface IMsiSink
{
    void Route(int vector, ulong address, uint data);
    void Fire(int vector);
}

/// <summary>Binds a guest doorbell address to an eventfd so writes to it need no exit to user space.</summary>
public interface IDoorbellBinder
{
    void Bind(ulong address, uint length, Os.EventFd target);
    void Unbind(ulong address, uint length, Os.EventFd target);
}
