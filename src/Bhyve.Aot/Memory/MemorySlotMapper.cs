namespace Bhyve.Aot.Memory;

/// <summary>
/// Registers one slot of guest RAM with the hypervisor (the VMM passes Kvm's Vm.MapMemory): guest physical address,
/// size, host address, and whether guest writes there exit instead of landing. Memory itself knows nothing of KVM.
/// </summary>
public delegate void MemorySlotMapper(ulong guestPhysical, ulong size, nint hostAddress, bool readOnly);
