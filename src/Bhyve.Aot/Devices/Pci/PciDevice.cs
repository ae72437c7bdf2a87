using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// A PCI function: configuration space, memory BARs and their mapping on the MMIO bus. A BAR is mapped
/// while memory decoding is on and it holds a usable address; when the guest moves it, the mapping (and
/// whatever the device hangs on it, such as doorbell eventfds) follows.
/// </summary>
public abstract class PciDevice
{
    private readonly PciBar?[] _bars = new PciBar?[6];
    private readonly ulong[] _mappedAt = new ulong[6];
    private readonly BarWindow?[] _windows = new BarWindow?[6];
    private IoBus? _mmio;

    protected PciDevice(PciConfigSpace config) => Config = config;

    public PciConfigSpace Config { get; }
    protected Lock ConfigLock { get; } = new();
    public IEnumerable<PciBar> Bars => _bars.Where(b => b is not null)!;

    protected void AddBar(PciBar bar)
    {
        PciBar.ValidateSize(bar.Size);
        if (_bars[bar.Index] is not null || (bar.Is64Bit && bar.Index == 5)) throw new InvalidOperationException($"BAR {bar.Index} cannot be used");
        _bars[bar.Index] = bar;
        _windows[bar.Index] = new BarWindow(this, bar.Index);
        int register = PciConfigSpace.Bar0 + 4 * bar.Index;
        Config.Set32(register, bar.TypeBits);
        // Address bits below the size read back as zero: this is what makes BAR sizing (write ~0, read) work.
        Config.MakeWritable(register, 4, ~(bar.Size - 1) & 0xFFFF_FFF0);
        if (bar.Is64Bit) Config.MakeWritable(register + 4, 4, (~(bar.Size - 1) >> 32) & 0xFFFF_FFFF);
    }

    /// <summary>The guest-physical address BAR `index` decodes, as programmed (0 when unassigned).</summary>
    public ulong BarAddress(int index)
    {
        var bar = _bars[index] ?? throw new ArgumentOutOfRangeException(nameof(index));
        int register = PciConfigSpace.Bar0 + 4 * index;
        ulong address = Config.Get32(register) & 0xFFFF_FFF0u;
        if (bar.Is64Bit) address |= (ulong)Config.Get32(register + 4) << 32;
        return address;
    }

    /// <summary>Called once when the device is placed on a bus, with the addresses the VMM chose.</summary>
    internal void Attach(IoBus mmio, Func<PciBar, ulong> allocate)
    {
        _mmio = mmio;
        foreach (var bar in Bars)
        {
            ulong address = allocate(bar);
            int register = PciConfigSpace.Bar0 + 4 * bar.Index;
            Config.Set32(register, (uint)address | bar.TypeBits);
            if (bar.Is64Bit) Config.Set32(register + 4, (uint)(address >> 32));
        }
    }

    public void ConfigRead(int offset, Span<byte> data)
    {
        lock (ConfigLock)
        {
            if (!OnConfigRead(offset, data)) Config.Read(offset, data);
        }
    }

    public void ConfigWrite(int offset, ReadOnlySpan<byte> data)
    {
        lock (ConfigLock)
        {
            if (!OnConfigWrite(offset, data)) Config.Write(offset, data);
            UpdateBarMappings();
        }
    }

    /// <summary>Lets a device serve part of config space itself (capability registers with side effects).</summary>
    protected virtual bool OnConfigRead(int offset, Span<byte> data) => false;
    protected virtual bool OnConfigWrite(int offset, ReadOnlySpan<byte> data) => false;

    protected abstract void BarRead(int index, ulong offset, Span<byte> data);
    protected abstract void BarWrite(int index, ulong offset, ReadOnlySpan<byte> data);
    protected virtual void OnBarMapped(int index, ulong address) { }
    protected virtual void OnBarUnmapped(int index, ulong address) { }

    private void UpdateBarMappings()
    {
        if (_mmio is null) return;
        bool decode = (Config.CommandRegister & PciConfigSpace.CommandMemory) != 0;
        foreach (var bar in Bars)
        {
            ulong address = BarAddress(bar.Index);
            bool usable = address != 0 && address <= ulong.MaxValue - bar.Size && address < (1UL << 48);
            ulong wanted = decode && usable ? address : 0;
            ulong current = _mappedAt[bar.Index];
            if (wanted == current) continue;
            if (current != 0)
            {
                _mmio.Unregister(_windows[bar.Index]!, current);
                _mappedAt[bar.Index] = 0;
                OnBarUnmapped(bar.Index, current);
            }
            if (wanted == 0) continue;
            try
            {
                _mmio.Register(wanted, bar.Size, _windows[bar.Index]!);
            }
            catch (InvalidOperationException)
            {
                continue; // the guest placed it over another device: leave it unmapped, as a real bus would misbehave
            }
            _mappedAt[bar.Index] = wanted;
            OnBarMapped(bar.Index, wanted);
        }
    }

    private sealed class BarWindow(PciDevice device, int index) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => device.BarRead(index, offset, data);
        public void Write(ulong offset, ReadOnlySpan<byte> data) => device.BarWrite(index, offset, data);
    }
}
