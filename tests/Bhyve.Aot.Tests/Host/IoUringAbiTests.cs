using System.Runtime.CompilerServices;
using Bhyve.Aot.Host;
using Bhyve.Aot.Interop;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

public class IoUringAbiTests
{
    [Fact]
    public void StructSizesMatchTheKernelHeaders()
    {
        // sizeof/offsetof from a C probe against /usr/include/linux/io_uring.h.
        Assert.Equal(40, Unsafe.SizeOf<IoSqringOffsets>());
        Assert.Equal(40, Unsafe.SizeOf<IoCqringOffsets>());
        Assert.Equal(120, Unsafe.SizeOf<IoUringParams>());
        Assert.Equal(16, Unsafe.SizeOf<IoUringProbeHeader>());
        Assert.Equal(8, Unsafe.SizeOf<IoUringProbeOp>());
    }

    [Fact]
    public unsafe void FeaturesAndOffsetsSitWhereTheKernelWritesThem()
    {
        var p = new IoUringParams();
        byte* b = (byte*)&p;
        Assert.Equal(20, (byte*)&p.Features - b);
        Assert.Equal(40, (byte*)&p.SqOff - b);
        Assert.Equal(80, (byte*)&p.CqOff - b);
    }

    [Fact]
    public void BlockEngineNeedsSetupAndEveryNeededOpcode()
    {
        IoUringOpcodeReport[] all = [.. IoUringProbe.EngineOpcodes.Select(o => new IoUringOpcodeReport(o.Name, (int)o.Op, true, o.Needed))];
        Assert.Equal(IoUringProbe.IoUringEngine, IoUringProbe.ChooseBlockEngine(true, all));
        Assert.Equal(IoUringProbe.SynchronousEngine, IoUringProbe.ChooseBlockEngine(false, all));
        Assert.Equal(IoUringProbe.SynchronousEngine, IoUringProbe.ChooseBlockEngine(true, []));

        var noFallocate = all.Select(o => o.Name == "FALLOCATE" ? o with { Supported = false } : o).ToArray();
        Assert.Equal(IoUringProbe.SynchronousEngine, IoUringProbe.ChooseBlockEngine(true, noFallocate));
        var noReadFixed = all.Select(o => o.Name == "READ_FIXED" ? o with { Supported = false } : o).ToArray();
        Assert.Equal(IoUringProbe.IoUringEngine, IoUringProbe.ChooseBlockEngine(true, noReadFixed));
    }
}
