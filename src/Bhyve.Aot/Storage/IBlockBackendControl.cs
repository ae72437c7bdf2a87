namespace Bhyve.Aot.Storage;

/// <summary>
/// What a device may do to its backend outside the queues' engines: flush it from a control path (an NVMe shutdown
/// while the controller is disabled) and forget a latched flush error when the guest resets the device.
/// BlockFile implements it; device tests pass fakes.
/// </summary>
public interface IBlockBackendControl
{
    /// <summary>0, or the negative errno of the flush (or of a failure latched earlier).</summary>
    int Flush();

    /// <summary>The device was reset: FLUSH and FUA writes may succeed again.</summary>
    void ClearFlushError();
}
