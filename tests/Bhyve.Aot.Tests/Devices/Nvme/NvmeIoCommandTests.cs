using System.Buffers.Binary;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// NVM I/O commands through a queue pair on a real file: data round trips, FUA, flush, write zeroes, deallocate
/// reaching the file as holes, and the exact statuses for bad input (device-semantics A10, D9).
/// </summary>
public sealed class NvmeIoCommandTests
{
    private const ulong Buf = NvmeHarness.Data;

    private static NvmeHarness Ready(BlockEngineKind kind = BlockEngineKind.IoUring, int lbaShift = 9, bool readOnly = false,
                                     DsmModeForTest dsm = DsmModeForTest.Auto)
    {
        var h = new NvmeHarness(kind, lbaShift: lbaShift, readOnly: readOnly, dsm: dsm);
        Assert.Equal(NvmeRegisters.CstsReady, h.Enable());
        Assert.Equal((0, 0), h.CreateQueuePair(1));
        return h;
    }

    [Theory]
    [InlineData(BlockEngineKind.IoUring, 9)]
    [InlineData(BlockEngineKind.Synchronous, 9)]
    [InlineData(BlockEngineKind.IoUring, 12)]
    public void Write_then_read_through_a_chained_prp_list(BlockEngineKind kind, int lbaShift)
    {
        using var h = Ready(kind, lbaShift);
        const int Bytes = 64 << 10;
        // PRP1 mid-page, PRP2 a list with an offset; the data pages are scattered.
        var rng = new Random(5);
        var data = new byte[Bytes];
        rng.NextBytes(data);
        ulong prp1 = Buf + 0x200, list = 0x90FF0;
        int pages = (Bytes - 0xE00 + 4095) / 4096;
        var pageAddrs = Enumerable.Range(0, pages).Select(i => 0x200000UL + (ulong)(pages - i) * 0x3000).ToArray();
        WritePrpChain(h, list, pageAddrs);
        Scatter(h, data, prp1, pageAddrs);
        uint blocks = (uint)(Bytes >> lbaShift);
        ulong slba = 3;
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: prp1, prp2: list, cdw10: (uint)slba, cdw12: blocks - 1).Status);
        Assert.Equal(data, h.FileBytes((long)slba << lbaShift, Bytes));
        // Read back into other pages.
        var readPages = pageAddrs.Select(a => a + 0x1000).ToArray();
        WritePrpChain(h, 0xA0FF0, readPages);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Read, prp1: 0x80200, prp2: 0xA0FF0, cdw10: (uint)slba, cdw12: blocks - 1).Status);
        Assert.Equal(data, Gather(h, Bytes, 0x80200, readPages));
        Assert.True(h.GuardsIntact);
    }

    private static void WritePrpChain(NvmeHarness h, ulong list, ulong[] pages)
    {
        // A list starting at `list` (offset 0xFF0: two slots on the first page), chained page after page.
        int slotsLeft = (int)((4096 - (list & 4095)) / 8);
        ulong at = list;
        ulong nextList = 0x300000;
        for (int i = 0; i < pages.Length; i++)
        {
            int remaining = pages.Length - i;
            if (slotsLeft == 1 && remaining > 1)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(h.Ram(at, 8), nextList);
                at = nextList;
                nextList += 0x1000;
                slotsLeft = 512;
            }
            BinaryPrimitives.WriteUInt64LittleEndian(h.Ram(at, 8), pages[i]);
            at += 8;
            slotsLeft--;
        }
    }

    private static void Scatter(NvmeHarness h, byte[] data, ulong prp1, ulong[] pages)
    {
        int first = (int)(4096 - (prp1 & 4095));
        data.AsSpan(0, first).CopyTo(h.Ram(prp1, first));
        int at = first;
        foreach (var p in pages)
        {
            int n = Math.Min(4096, data.Length - at);
            data.AsSpan(at, n).CopyTo(h.Ram(p, n));
            at += n;
        }
    }

    private static byte[] Gather(NvmeHarness h, int length, ulong prp1, ulong[] pages)
    {
        var data = new byte[length];
        int first = (int)(4096 - (prp1 & 4095));
        h.Ram(prp1, first).CopyTo(data);
        int at = first;
        foreach (var p in pages)
        {
            int n = Math.Min(4096, length - at);
            h.Ram(p, n).CopyTo(data.AsSpan(at));
            at += n;
        }
        return data;
    }

    [Fact]
    public void Fua_write_and_flush_succeed()
    {
        using var h = Ready();
        h.Ram(Buf, 512).Fill(0x11);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: Buf, cdw12: 1u << 30).Status);
        Assert.Equal(0x11, h.FileBytes(0, 1)[0]);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Flush).Status);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Flush, nsid: 0xFFFF_FFFF).Status);
        Assert.Equal(NvmeStatus.InvalidNamespace, h.Io(1, NvmeIoOpcode.Flush, nsid: 0).Status);
    }

    public static TheoryData<string, byte, uint, ulong, ulong, uint, uint, uint, ushort> BadCommands => new()
    {
        { "unknown opcode", 0x7E, 1, Buf, 0, 0, 0, 0, NvmeStatus.InvalidOpcode },
        { "compare is not offered", 0x05, 1, Buf, 0, 0, 0, 0, NvmeStatus.InvalidOpcode },
        { "fused", NvmeIoOpcode.Read, 1, Buf, 0, 0, 0, 1u << 8, NvmeStatus.InvalidField },
        { "SGL", NvmeIoOpcode.Read, 1, Buf, 0, 0, 0, 1u << 14, NvmeStatus.InvalidField },
        { "NSID 0", NvmeIoOpcode.Read, 0, Buf, 0, 0, 0, 0, NvmeStatus.InvalidNamespace },
        { "NSID 2", NvmeIoOpcode.Write, 2, Buf, 0, 0, 0, 0, NvmeStatus.InvalidNamespace },
        { "NSID broadcast on read", NvmeIoOpcode.Read, 0xFFFF_FFFF, Buf, 0, 0, 0, 0, NvmeStatus.InvalidNamespace },
        { "beyond MDTS", NvmeIoOpcode.Read, 1, Buf, 0, 0, 1024, 0, NvmeStatus.InvalidField },
        { "last LBA + 1", NvmeIoOpcode.Read, 1, Buf, 0, 8192, 0, 0, NvmeStatus.LbaOutOfRange },
        { "range crossing the end", NvmeIoOpcode.Write, 1, Buf, 0, 8190, 3, 0, NvmeStatus.LbaOutOfRange },
        { "SLBA near 2^64", NvmeIoOpcode.Read, 1, Buf, 0, 0xFFFF_FFFF, 7, 0, NvmeStatus.LbaOutOfRange },
        { "PRP1 misaligned", NvmeIoOpcode.Read, 1, Buf + 2, 0, 0, 0, 0, NvmeStatus.InvalidPrpOffset },
        { "PRP2 data pointer with offset", NvmeIoOpcode.Read, 1, Buf + 0x800, Buf + 0x3100, 0, 7, 0, NvmeStatus.InvalidPrpOffset },
        { "data in the BAR", NvmeIoOpcode.Read, 1, 0xC000_0000, 0, 0, 0, 0, NvmeStatus.DataTransferError },
    };

    [Theory]
    [MemberData(nameof(BadCommands))]
    public void Bad_commands_get_their_exact_status_and_touch_nothing(string why, byte opcode, uint nsid, ulong prp1, ulong prp2,
                                                                       uint slbaLow, uint nlb, uint dw0, ushort status)
    {
        Assert.NotNull(why);
        using var h = Ready();
        h.Ram(Buf, 4096).Fill(0x77);
        // cdw11 holds the SLBA's high half; "SLBA near 2^64" sets it all ones.
        uint slbaHigh = slbaLow == 0xFFFF_FFFF ? 0xFFFF_FFFF : 0;
        var c = h.Io(1, opcode, nsid: nsid, prp1: prp1, prp2: prp2, cdw10: slbaLow, cdw11: slbaHigh, cdw12: nlb, dw0Flags: dw0);
        Assert.Equal(status, c.Status);
        Assert.False(h.Ram(Buf, 4096).ContainsAnyExcept((byte)0x77));
        Assert.All(h.FileBytes(0, 4096), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Read_only_namespace_refuses_writes_as_write_protected()
    {
        using var h = Ready(readOnly: true);
        Assert.Equal(NvmeStatus.NamespaceWriteProtected, h.Io(1, NvmeIoOpcode.Write, prp1: Buf).Status);
        Assert.Equal(NvmeStatus.InvalidOpcode, h.Io(1, NvmeIoOpcode.WriteZeroes).Status);      // not advertised
        Assert.Equal(NvmeStatus.InvalidOpcode, h.Io(1, NvmeIoOpcode.DatasetManagement, cdw11: 4).Status);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Read, prp1: Buf).Status);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Flush).Status);
    }

    [Fact]
    public void Write_zeroes_zeroes_without_data_and_without_mdts()
    {
        using var h = Ready();
        Assert.True(h.Namespace.WriteZeroes);
        h.Ram(Buf, 4096).Fill(0xAB);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: Buf, cdw10: 0, cdw12: 7).Status);
        // 2048 blocks = 1 MiB, past the 512 KiB MDTS; with DEAC.
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.WriteZeroes, cdw10: 0, cdw12: 2047 | (1u << 25)).Status);
        Assert.All(h.FileBytes(0, 4096), b => Assert.Equal(0, b));
        Assert.Equal(NvmeStatus.LbaOutOfRange, h.Io(1, NvmeIoOpcode.WriteZeroes, cdw10: 8191, cdw12: 1).Status);
    }

    private static void Ranges(NvmeHarness h, ulong at, params (ulong Slba, uint Count)[] ranges)
    {
        var r = h.Ram(at, ranges.Length * 16);
        r.Clear();
        for (int i = 0; i < ranges.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r[(i * 16 + 4)..], ranges[i].Count);
            BinaryPrimitives.WriteUInt64LittleEndian(r[(i * 16 + 8)..], ranges[i].Slba);
        }
    }

    [Fact]
    public void Deallocate_punches_holes_in_the_file()
    {
        using var h = Ready();
        Assert.True(h.Namespace.Dsm && h.Namespace.DeallocateWorks);
        h.Ram(Buf, 512 << 10).Fill(0xCD);
        for (uint i = 0; i < 4; i++) Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: Buf, prp2: 0, cdw10: i * 8, cdw12: 7).Status);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Flush).Status);
        ulong before = EngineDriver.AllocatedBlocks(h.Path);
        // Two adjacent ranges (merged), one empty range (skipped), one elsewhere; all via PRP1 spanning a page end.
        ulong list = Buf + 0x100000 + 4096 - 32;
        Ranges(h, list, (0, 8), (8, 8));
        BinaryPrimitives.WriteUInt64LittleEndian(h.Ram(0x180000, 8), 0);
        var rest = h.Ram(0x180000, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(rest[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(rest[8..], 100);
        BinaryPrimitives.WriteUInt32LittleEndian(rest[20..], 16);
        BinaryPrimitives.WriteUInt64LittleEndian(rest[24..], 16);
        var c = h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: list, prp2: 0x180000, cdw10: 3, cdw11: 4);
        Assert.Equal(0, c.Status);
        Assert.All(h.FileBytes(0, 32 * 512), b => Assert.Equal(0, b));
        Assert.True(EngineDriver.AllocatedBlocks(h.Path) < before, "deallocation gave blocks back to the file system");
    }

    [Fact]
    public void Deallocate_validates_every_range_before_touching_any()
    {
        using var h = Ready();
        h.Ram(Buf, 4096).Fill(0xCD);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: Buf, cdw12: 7).Status);
        Ranges(h, 0x180000, (0, 8), (8190, 3));
        Assert.Equal(NvmeStatus.LbaOutOfRange, h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: 0x180000, cdw10: 1, cdw11: 4).Status);
        Assert.Equal(0xCD, h.FileBytes(0, 1)[0]);
        Ranges(h, 0x180000, (ulong.MaxValue - 2, 8));
        Assert.Equal(NvmeStatus.LbaOutOfRange, h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: 0x180000, cdw10: 0, cdw11: 4).Status);
        // Advisory hints without AD: success, nothing freed.
        Ranges(h, 0x180000, (0, 8));
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: 0x180000, cdw10: 0, cdw11: 3).Status);
        Assert.Equal(0xCD, h.FileBytes(0, 1)[0]);
        Assert.Equal(NvmeStatus.DataTransferError, h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: 0xC000_0000, cdw10: 0, cdw11: 4).Status);
    }

    [Fact]
    public void Dsm_disabled_is_not_offered()
    {
        using var h = Ready(dsm: DsmModeForTest.Disable);
        Assert.False(h.Namespace.Dsm);
        Assert.Equal(NvmeStatus.InvalidOpcode, h.Io(1, NvmeIoOpcode.DatasetManagement, prp1: 0x180000, cdw11: 4).Status);
    }

    [Fact]
    public void Write_cache_disabled_makes_every_write_write_through_and_still_correct()
    {
        using var h = Ready();
        Assert.Equal(0, h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.VolatileWriteCache, cdw11: 0).Status);
        h.Ram(Buf, 512).Fill(0x42);
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Write, prp1: Buf, cdw10: 9).Status);
        Assert.Equal(0x42, h.FileBytes(9 * 512, 1)[0]);
    }

    [Fact]
    public void A_full_cq_holds_completions_until_the_guest_frees_room()
    {
        using var h = new NvmeHarness();
        h.Enable();
        Assert.Equal((0, 0), h.CreateQueuePair(1, entries: 4));
        // Three flushes fill the 4-entry CQ (one slot always stays empty); do not consume them yet.
        for (int i = 0; i < 3; i++) h.Submit(1, NvmeIoOpcode.Flush, 1);
        h.Settle();
        h.Submit(1, NvmeIoOpcode.Flush, 1);
        h.Settle();
        Assert.True(h.Controller.Counters.CqFullWaits >= 1);
        var got = new List<ushort>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(h.TryReap(1, out var c, ring: false));
            got.Add(c.CommandId);
        }
        Assert.False(h.TryReap(1, out _, ring: false)); // the fourth waits: posting it would overwrite an unread entry
        h.RingCq(1);
        got.Add(h.Wait(1).CommandId);
        Assert.Equal(4, got.Distinct().Count());
    }

    [Fact]
    public void Tail_doorbell_beyond_the_queue_is_ignored()
    {
        using var h = Ready();
        h.Write32(NvmeRegisters.DoorbellBase + 8, 64); // queue has 64 entries: 64 is out of range
        h.Settle();
        Assert.Equal(0, h.Controller.Counters.IoCommands);
        h.Write32(NvmeRegisters.DoorbellBase + 8 * 9, 1); // queue 9 does not exist
        h.Settle();
        Assert.Equal(0, h.Controller.Counters.IoCommands);
    }

    [Fact]
    public void Msix_vector_of_the_cq_fires_only_with_ien()
    {
        using var h = new NvmeHarness();
        EnableMsix(h);
        h.Enable();
        Assert.Equal((0, 0), h.CreateQueuePair(1, vector: 2, interrupts: true));
        Assert.Equal((0, 0), h.CreateQueuePair(2, vector: 3, interrupts: false));
        h.Msi.Fired.Clear();
        Assert.Equal(0, h.Io(1, NvmeIoOpcode.Flush).Status);
        Assert.Equal(0, h.Io(2, NvmeIoOpcode.Flush).Status);
        Assert.Equal([2], h.Msi.Fired);
    }

    private static void EnableMsix(NvmeHarness h)
    {
        int cap = h.Controller.MsiX.CapabilityOffset;
        h.Controller.ConfigWrite(cap + 2, BitConverter.GetBytes((ushort)0x8000));
        for (int v = 0; v < h.Controller.MsiX.VectorCount; v++)
            h.Write32(NvmeController.MsixTableOffset + (ulong)v * 16 + 12, 0); // unmask
    }
}
