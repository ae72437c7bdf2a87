using System.Diagnostics;
using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.StorageBench;

/// <summary>
/// The host baseline when fio is missing: the workload driven straight through bhyve-aot's io_uring block engine
/// (the same engine the devices use), QueueDepth requests in flight, each timed from preparation to reaping.
/// </summary>
public static class HostIoUringLoop
{
    // SAFETY: slot < qd keeps every iovec inside the qd * bs buffer, which is freed only after the engine (and its ring) is disposed; poll gets one PollFd on our stack
    public static unsafe Measurement Run(BackingFile backing, StorageWorkload w, RunSettings s)
    {
        int qd = w.QueueDepth, bs = w.BlockSize;
        long blocks = backing.Size / bs;
        // The buffers outlive the engine: freed in the outer finally, after the ring is closed.
        byte* ram = (byte*)NativeMemory.AlignedAlloc((nuint)(qd * bs), 4096);
        var started = new long[qd];
        var flushing = new bool[qd];
        var isWrite = new bool[qd];
        var latencies = new List<double>(1 << 16);
        var random = new Random(12345);
        long next = 0, ops = 0, bytes = 0;
        long deadline = Stopwatch.GetTimestamp() + (long)(s.DurationMs / 1000.0 * Stopwatch.Frequency);
        try
        {
            using var file = BlockFile.Open(backing.Path, readOnly: false, direct: s.Cache == CacheMode.Direct);
            using var engine = BlockEngineFactory.Create(file, new BlockEngineOptions(QueueDepth: Math.Max(2 * qd, 8), MaxSegments: 1, BounceBuffers: 1, BounceBufferBytes: bs), BlockEngineKind.IoUring, out _);
            void Start(int slot)
            {
                bool write = w.Kind is WorkloadKind.RandWrite or WorkloadKind.SeqWrite or WorkloadKind.FlushWrite
                    || (w.Kind == WorkloadKind.Mixed && random.Next(100) >= w.ReadPercent);
                long block = w.Kind is WorkloadKind.SeqRead or WorkloadKind.SeqWrite ? next++ % blocks : random.NextInt64(blocks);
                Span<IoVec> iov = [new IoVec((nint)(ram + slot * bs), (nuint)bs)];
                isWrite[slot] = write;
                flushing[slot] = false;
                started[slot] = Stopwatch.GetTimestamp();
                bool ok = write ? engine.TryWrite((ulong)(block * bs), iov, false, (ulong)slot) : engine.TryRead((ulong)(block * bs), iov, (ulong)slot);
                if (!ok) throw new BenchException("io_uring loop: the engine refused a request");
            }
            for (int i = 0; i < qd; i++) Start(i);
            engine.Submit();
            int inflight = qd;
            Span<BlockCompletion> done = stackalloc BlockCompletion[64];
            var pfd = new PollFd { Fd = engine.CompletionEventFd, Events = PollFd.PollIn };
            while (inflight > 0)
            {
                Libc.Poll(&pfd, 1, 1000);
                engine.AcknowledgeCompletionSignal();
                int n;
                while ((n = engine.Reap(done)) > 0)
                    for (int i = 0; i < n; i++)
                    {
                        int slot = (int)done[i].UserData;
                        if (done[i].Result < 0) throw new BenchException($"io_uring loop: request failed: {Libc.Describe(-done[i].Result)}");
                        if (w.Kind == WorkloadKind.FlushWrite && !flushing[slot])
                        {
                            flushing[slot] = true;
                            if (!engine.TryFlush((ulong)slot)) throw new BenchException("io_uring loop: the engine refused a flush");
                            continue;
                        }
                        latencies.Add(Stopwatch.GetElapsedTime(started[slot]).TotalMicroseconds);
                        ops++;
                        bytes += bs;
                        if (Stopwatch.GetTimestamp() < deadline) Start(slot);
                        else inflight--;
                    }
                engine.Submit();
            }
        }
        finally { NativeMemory.AlignedFree(ram); }
        double seconds = Stopwatch.GetElapsedTime(deadline - (long)(s.DurationMs / 1000.0 * Stopwatch.Frequency)).TotalSeconds;
        return new Measurement(ops, seconds, ops / seconds, bytes / seconds / (1 << 20), Percentiles.Summarize(latencies));
    }
}
