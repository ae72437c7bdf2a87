using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>
/// The whole MMIO space of an hvt guest, which has no MMIO devices: an access that reaches user space is either a
/// write to the guest's read-only pages (their KVM slots are KVM_MEM_READONLY) or an access outside its RAM.
/// Either ends the run with a fault, as solo5-hvt ends on the host fault its mprotect'ed pages raise; the words
/// name it as solo5-hvt does ("host/guest translation fault"), which is what Solo5's tests look for.
/// </summary>
public sealed class HvtMemoryFault(IReadOnlyList<RamRange> readOnly, Action<string> fault) : IBusDevice
{
    public void Read(ulong offset, Span<byte> data)
    {
        data.Fill(0xFF);
        fault($"host/guest translation fault: guest read of {data.Length} bytes at 0x{offset:x}, outside its RAM");
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        foreach (var r in readOnly)
            if (offset >= r.Address && offset < r.End)
            {
                fault($"host/guest translation fault: guest wrote {data.Length} byte(s) to its read-only memory at 0x{offset:x} (segment pages 0x{r.Address:x}-0x{r.End:x})");
                return;
            }
        fault($"host/guest translation fault: guest write of {data.Length} bytes at 0x{offset:x}, outside its RAM");
    }
}
