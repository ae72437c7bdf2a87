using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// Queue sizes are 16-bit in the model: a 65536-entry queue would be stored as 0 and divide by zero on the queue
/// thread. The limit lives in the model (controller and queue constructors), whatever a front end caps.
/// </summary>
public sealed class NvmeQueueLimitTests
{
    [Fact]
    public void A_controller_offering_65536_entry_queues_is_refused_by_the_model()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NvmeHarness(maxEntries: 65536));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void Queue_models_refuse_sizes_they_cannot_store(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NvmeQueueLimits.CheckedSize(size));
        unsafe
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new CompletionQueue(1, size, null, 0, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => new SubmissionQueue(1, size, null, 1));
        }
    }

    [Fact]
    public void The_largest_queue_the_model_offers_is_created_and_one_more_entry_is_refused()
    {
        using var h = new NvmeHarness(maxEntries: NvmeQueueLimits.MaxEntries);
        Assert.Equal((ulong)NvmeQueueLimits.MaxEntries - 1, h.Read64(NvmeRegisters.Cap) & 0xFFFF); // MQES, 0-based
        h.Enable();
        const ulong CqRing = 0x200000; // 65535 * 16 bytes, inside the harness's 8 MiB
        const uint ContiguousWithInterrupts = 3;
        Assert.Equal(NvmeStatus.InvalidQueueSize,
            h.Admin(NvmeAdminOpcode.CreateIoCq, prp1: CqRing, cdw10: 1 | (0xFFFFu << 16), cdw11: ContiguousWithInterrupts).Status);
        Assert.Equal(NvmeStatus.Success,
            h.Admin(NvmeAdminOpcode.CreateIoCq, prp1: CqRing, cdw10: 1 | (0xFFFEu << 16), cdw11: ContiguousWithInterrupts).Status);
        const ulong SqRing = 0x300000; // 65535 * 64 bytes
        Assert.Equal(NvmeStatus.Success,
            h.Admin(NvmeAdminOpcode.CreateIoSq, prp1: SqRing, cdw10: 1 | (0xFFFEu << 16), cdw11: 1 | (1u << 16)).Status);
        Assert.True(h.GuardsIntact);
    }
}
