using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Bench;

/// <summary>Bounds-checked translation of a guest-physical range, done for every descriptor a device reads.</summary>
[MemoryDiagnoser]
public unsafe class GuestMemoryBenchmarks
{
    private const ulong Size = 64 << 20;
    private byte* _ram;
    private GuestMemory _memory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ram = (byte*)NativeMemory.AllocZeroed((nuint)Size);
        _memory = GuestMemory.Wrap(0, _ram, Size);
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.Free(_ram);

    [Benchmark]
    public int SpanOf4K() => _memory.TryGetSpan(0x20_0000, 4096, out var span) ? span.Length : -1;

    [Benchmark]
    public ulong ReadU64() => _memory.TryRead(0x30_0008, out ulong v) ? v : 0;

    [Benchmark]
    public bool RejectOverflow() => _memory.TryGetSpan(ulong.MaxValue - 8, 4096, out _);
}
