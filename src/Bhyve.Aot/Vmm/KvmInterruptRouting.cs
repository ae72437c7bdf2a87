using Bhyve.Aot.Devices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table, so this keeps all of it: the
/// default legacy routes (GSI 0-15 to the PIC, 0-23 to the IOAPIC, as KVM sets them up) plus one MSI route
/// per device vector, each vector fed by its own irqfd.
/// </summary>
internal sealed class KvmInterruptRouting(Vm vm)
{
    private readonly Vm _vm = vm;
    public const uint FirstMsiGsi = 24;
    private readonly Lock _lock = new();
    private readonly List<KvmIrqRoutingEntry> _msiRoutes = [];
    private uint _nextGsi = FirstMsiGsi;

    /// <summary>An MSI sink for one device with `vectors` vectors.</summary>
    public IMsiSink CreateMsiSink(int vectors) => new MsiSink(this, vectors);

    private uint AllocateGsi()
    {
        lock (_lock) return _nextGsi++;
    }

    private void SetMsiRoute(uint gsi, ulong address, uint data)
    {
        lock (_lock)
        {
            var entry = new KvmIrqRoutingEntry
            {
                Gsi = gsi,
                Type = KvmIrqRoutingEntry.TypeMsi,
                MsiAddressLo = (uint)address,
                MsiAddressHi = (uint)(address >> 32),
                MsiData = data,
            };
            int existing = _msiRoutes.FindIndex(e => e.Gsi == gsi);
            if (existing >= 0) _msiRoutes[existing] = entry;
            else _msiRoutes.Add(entry);
            Apply();
        }
    }

    private void Apply()
    {
        Span<KvmIrqRoutingEntry> table = new KvmIrqRoutingEntry[16 + 24 + _msiRoutes.Count];
        int n = 0;
        for (uint gsi = 0; gsi < 16; gsi++)
            table[n++] = new KvmIrqRoutingEntry
            {
                Gsi = gsi, Type = KvmIrqRoutingEntry.TypeIrqchip,
                Irqchip = gsi < 8 ? KvmIrqRoutingEntry.IrqchipPicMaster : KvmIrqRoutingEntry.IrqchipPicSlave, Pin = gsi % 8,
            };
        for (uint gsi = 0; gsi < 24; gsi++)
            table[n++] = new KvmIrqRoutingEntry { Gsi = gsi, Type = KvmIrqRoutingEntry.TypeIrqchip, Irqchip = KvmIrqRoutingEntry.IrqchipIoapic, Pin = gsi };
        foreach (var route in _msiRoutes) table[n++] = route;
        _vm.SetGsiRouting(table);
    }

    private sealed class MsiSink : IMsiSink
    {
        private readonly KvmInterruptRouting _routing;
        private readonly uint[] _gsi;
        private readonly EventFd[] _irqfds;
        private readonly bool[] _bound;

        public MsiSink(KvmInterruptRouting routing, int vectors)
        {
            _routing = routing;
            _gsi = new uint[vectors];
            _irqfds = new EventFd[vectors];
            _bound = new bool[vectors];
            for (int v = 0; v < vectors; v++)
            {
                _gsi[v] = routing.AllocateGsi();
                _irqfds[v] = new EventFd();
            }
        }

        public void Route(int vector, ulong address, uint data)
        {
            _routing.SetMsiRoute(_gsi[vector], address, data);
            if (_bound[vector]) return;
            _routing._vm.SetIrqfd(_irqfds[vector].Fd, _gsi[vector], assign: true);
            _bound[vector] = true;
        }

        // A vector fires only after Route bound its irqfd (MsiX routes on unmask); before that the write is harmless.
        public void Fire(int vector) => _irqfds[vector].Signal();
    }
}
