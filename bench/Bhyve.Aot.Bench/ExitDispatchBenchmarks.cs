using BenchmarkDotNet.Attributes;
using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Bench;

/// <summary>
/// The user-space half of a port or MMIO exit: find the device for an address and call it. KVM hands us
/// the data in the kvm_run page; here a fixed buffer stands in for it.
/// </summary>
[MemoryDiagnoser]
public class ExitDispatchBenchmarks
{
    private sealed class Register : IBusDevice
    {
        public byte Value;
        public void Read(ulong offset, Span<byte> data) => data[0] = Value;
        public void Write(ulong offset, ReadOnlySpan<byte> data) => Value = data[0];
    }

    private readonly IoBus _ports = new("port");
    private readonly byte[] _data = new byte[8];

    [Params(4, 64)]
    public int Devices;

    [GlobalSetup]
    public void Setup()
    {
        // Spread devices over the port space like a PC: every 0x40 ports, 8 ports wide.
        for (int i = 0; i < Devices; i++) _ports.Register((ulong)(0x100 + i * 0x40), 8, new Register());
    }

    [Benchmark]
    public bool PortWrite() => _ports.Write((ulong)(0x100 + (Devices - 1) * 0x40 + 3), _data.AsSpan(0, 1));

    [Benchmark]
    public bool PortRead() => _ports.Read((ulong)(0x100 + (Devices / 2) * 0x40 + 5), _data.AsSpan(0, 1));

    [Benchmark]
    public bool Unhandled() => _ports.Read(0xFFFF, _data.AsSpan(0, 1));
}
