using Bhyve.Aot.Devices;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Vmm;

/// <summary>An interrupt pin of the in-kernel PIC/IOAPIC, driven with KVM_IRQ_LINE.</summary>
internal sealed class KvmIrqLine(Vm vm, int gsi) : IInterruptLine
{
    public void SetLevel(bool asserted) => vm.SetIrqLine(gsi, asserted);
}
