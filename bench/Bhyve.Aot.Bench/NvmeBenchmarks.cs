using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Bench;

/// <summary>
/// What the NVMe queue processor does per command before the backend: copy and decode the 64-byte SQE, then walk
/// its PRPs into iovecs (a 4 KiB read in PRP1, and a 128 KiB read through a PRP list of scattered pages).
/// </summary>
[MemoryDiagnoser]
public unsafe class NvmeBenchmarks
{
    private const ulong Size = 64 << 20, Sq = 0x10000, List = 0x20000;
    private byte* _ram;
    private GuestMemory _memory = null!;
    private readonly IoVec[] _iov = new IoVec[NvmeQueueProcessor.MaxSegments];

    [GlobalSetup]
    public void Setup()
    {
        _ram = (byte*)NativeMemory.AllocZeroed((nuint)Size);
        _memory = GuestMemory.Wrap(0, _ram, Size);
        NvmeSubmission.Encode(new Span<byte>(_ram + Sq, 64), NvmeIoOpcode.Read, 7, nsid: 1, prp1: 0x100000, prp2: List, cdw10: 2048, cdw12: 255);
        // Every other page, so nothing merges: 31 list entries, 32 segments.
        for (int i = 0; i < 31; i++) BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(_ram + List + i * 8, 8), 0x200000 + (ulong)i * 0x2000);
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.Free(_ram);

    [Benchmark]
    public uint DecodeSqe()
    {
        var c = new NvmeSubmission(new ReadOnlySpan<byte>(_ram + Sq, NvmeSubmission.Size));
        return c.Opcode + c.BlockCount + (uint)c.StartLba + c.Nsid;
    }

    [Benchmark]
    public int DecodeAndWalk4K()
    {
        var c = new NvmeSubmission(new ReadOnlySpan<byte>(_ram + Sq, NvmeSubmission.Size));
        PrpWalker.Walk(_memory, c.Prp1, 0, 4096, _iov, out int n);
        return n;
    }

    [Benchmark]
    public int DecodeAndWalk128KList()
    {
        var c = new NvmeSubmission(new ReadOnlySpan<byte>(_ram + Sq, NvmeSubmission.Size));
        PrpWalker.Walk(_memory, c.Prp1, c.Prp2, (ulong)c.BlockCount * 512, _iov, out int n);
        return n;
    }
}
