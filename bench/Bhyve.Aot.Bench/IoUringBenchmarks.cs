using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Bench;

/// <summary>The io_uring block engine's per-request cost: submit + reap of 4 KiB reads from a page-cached file.</summary>
[MemoryDiagnoser]
public unsafe class IoUringBenchmarks
{
    private const int Batch = 32;
    private const int Block = 4096;
    private string _dir = null!;
    private BlockFile _file = null!;
    private IoUringBlockEngine _engine = null!;
    private byte* _ram;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "bhyve-aot-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "disk.img");
        File.WriteAllBytes(path, new byte[Batch * Block]); // real data, so reads come from the page cache
        _file = BlockFile.Open(path);
        _engine = new IoUringBlockEngine(_file, new BlockEngineOptions(QueueDepth: 64));
        _ram = (byte*)NativeMemory.AlignedAlloc(Batch * Block, 4096);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _file.Dispose();
        NativeMemory.AlignedFree(_ram);
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public int Read4K() => Run(1);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Read4KBatch32() => Run(Batch);

    private int Run(int count)
    {
        Span<IoVec> iov = stackalloc IoVec[1];
        for (int i = 0; i < count; i++)
        {
            iov[0] = new IoVec((nint)(_ram + i * Block), Block);
            _engine.TryRead((ulong)(i * Block), iov, (ulong)i);
        }
        _engine.Submit();
        Span<BlockCompletion> done = stackalloc BlockCompletion[Batch];
        int reaped = 0, bytes = 0;
        while (reaped < count)
        {
            int n = _engine.Reap(done);
            for (int i = 0; i < n; i++) bytes += done[i].Result;
            reaped += n;
        }
        return bytes;
    }
}
