using System.Diagnostics;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>The command path (doorbell, fetch, decode, PRP walk, submit, reap, post, interrupt) allocates nothing once warm.</summary>
public sealed class NvmeAllocationTests
{
    [Theory]
    [InlineData(BlockEngineKind.IoUring, false)]
    [InlineData(BlockEngineKind.IoUring, true)]
    [InlineData(BlockEngineKind.Synchronous, false)]
    public void Steady_state_commands_allocate_nothing(BlockEngineKind kind, bool shadow)
    {
        using var h = new NvmeHarness(kind);
        h.Enable();
        if (shadow) Assert.Equal(0, h.ConfigureShadow());
        Assert.Equal((0, 0), h.CreateQueuePair(1, entries: 16));
        // PRP list case: 16 KiB reads through a list; writes with FUA; flushes.
        ulong list = 0x90000;
        for (int i = 0; i < 3; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(h.Ram(list + (ulong)i * 8, 8), 0x200000 + (ulong)i * 0x2000);
        Run(h, 60, shadow, list);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(h, 600, shadow, list);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(h.Controller.Counters.IoCommands >= 660);
    }

    private static void Run(NvmeHarness h, int count, bool shadow, ulong list)
    {
        long deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        for (int i = 0; i < count; i++)
        {
            byte opcode = (i % 3) switch { 0 => NvmeIoOpcode.Read, 1 => NvmeIoOpcode.Write, _ => NvmeIoOpcode.Flush };
            h.Submit(1, opcode, 1, prp1: NvmeHarness.Data, prp2: list, cdw10: (uint)(i % 256) * 32, cdw12: 31 | (opcode == NvmeIoOpcode.Write ? 1u << 30 : 0),
                     ring: !shadow);
            if (shadow) h.ShadowRingSq(1);
            NvmeHarness.Completion c;
            while (!h.TryReap(1, out c))
            {
                h.Service();
                h.Controller.Processor!.ReadyToSleep();
                if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException("commands did not complete");
            }
            if (c.Status != 0) throw new InvalidOperationException($"status {c.Status:x}");
        }
    }
}
