using Bhyve.Aot.Devices;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Vmm;

/// <summary>Doorbells as KVM ioeventfds: a guest write to the address signals the eventfd inside the kernel.</summary>
internal sealed class KvmDoorbellBinder(Vm vm) : IDoorbellBinder
{
    public void Bind(ulong address, uint length, EventFd target) => vm.SetIoeventfd(address, length, target.Fd, portIo: false, assign: true);
    public void Unbind(ulong address, uint length, EventFd target) => vm.SetIoeventfd(address, length, target.Fd, portIo: false, assign: false);
}
