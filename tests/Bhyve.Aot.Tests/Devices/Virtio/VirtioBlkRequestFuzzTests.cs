using System.Buffers.Binary;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Devices.Virtio.Blk;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>
/// A structure-aware fuzzer for virtio-blk requests through the fake driver, over 6 GiB of sparse guest RAM (so
/// buffers of 2 GiB and more, and lengths near 2^31 and 2^32, really lie in RAM). Most cases are well framed, valid or
/// carrying a request-level mistake; a few corrupt the ring or a descriptor chain. The generator knows which tier
/// each case belongs to and the device must agree: a valid request completes OK, a bad request gets IOERR/UNSUPP
/// (tier 1), a corrupt ring or chain sets DEVICE_NEEDS_RESET and publishes nothing (tier 2). Nothing throws, the
/// image never grows, and every tier is reached.
/// </summary>
public sealed unsafe class VirtioBlkRequestFuzzTests(ITestOutputHelper output)
{
    private const ulong RamBytes = 6UL << 30;
    private const ulong DiskBytes = 4 << 20;
    private const ushort QueueSize = 32;
    private static readonly ulong HugeAt = FakeVirtqDriver.RamBase + (1UL << 30); // room for 4 GiB - 1 above it

    private enum Tier { Ok, RequestError, NeedsReset }

    [Theory]
    [InlineData(1, 700)]
    [InlineData(2, 700)]
    [InlineData(3, 700)]
    public void Outcomes_match_the_tier_the_generator_chose(int seed, int cases)
    {
        var rng = new Random(seed);
        var seen = new Dictionary<Tier, int> { [Tier.Ok] = 0, [Tier.RequestError] = 0, [Tier.NeedsReset] = 0 };
        BlkQueueHarness? h = null;
        try
        {
            for (int c = 0; c < cases; c++)
            {
                h ??= new BlkQueueHarness(BlockEngineKind.Synchronous, diskBytes: DiskBytes, queueSize: QueueSize, discard: true,
                                          eventIdx: rng.Next(2) == 0, ramBytes: RamBytes, maxDataSegments: 8);
                var (expected, what) = RunCase(h, rng, out Tier actual);
                Assert.True(expected == actual, $"seed {seed} case {c} ({what}): expected {expected}, device gave {actual}");
                seen[actual]++;
                if (actual == Tier.NeedsReset)
                {
                    Assert.Equal(DiskBytes, (ulong)new FileInfo(h.Path).Length);
                    h.Dispose(); // the driver resets the device: a fresh queue
                    h = null;
                }
            }
            if (h is not null) Assert.Equal(DiskBytes, (ulong)new FileInfo(h.Path).Length);
        }
        finally { h?.Dispose(); }
        output.WriteLine($"seed {seed}: {seen[Tier.Ok]} ok, {seen[Tier.RequestError]} request errors, {seen[Tier.NeedsReset]} resets");
        Assert.True(seen[Tier.Ok] > cases / 4, "too few valid requests: the generator is off");
        Assert.True(seen[Tier.RequestError] > cases / 10, "too few request-level errors");
        Assert.InRange(seen[Tier.NeedsReset], 5, cases / 5);
    }

    /// <summary>Generates one case, runs it, and returns what the generator expects; actual is what the device did.</summary>
    private static (Tier Expected, string What) RunCase(BlkQueueHarness h, Random rng, out Tier actual)
    {
        var d = h.Driver;
        d.ResetHeap();
        ulong sectors = DiskBytes / 512;
        Tier expected = Tier.Ok;
        string what;
        uint type;
        ulong sector = (ulong)rng.Next(0, (int)sectors);
        var data = new List<(ulong Address, uint Length, bool Writable)>();
        switch (rng.Next(10))
        {
            case 0 or 1 or 2 or 3: // IN / OUT
            {
                type = rng.Next(2) == 0 ? VirtioBlkType.In : VirtioBlkType.Out;
                bool writable = type == VirtioBlkType.In;
                int segments = rng.Next(1, 4);
                ulong total = 0;
                for (int i = 0; i < segments; i++)
                {
                    uint length = (uint)rng.Next(1, 9) * 512;
                    // Odd offsets: buffers need no alignment without O_DIRECT.
                    data.Add((d.Alloc((int)length, 1 + rng.Next(2) * 511), length, writable));
                    total += length;
                }
                what = $"{(writable ? "IN" : "OUT")} {total} bytes at sector {sector}";
                switch (rng.Next(8))
                {
                    case 0: sector = sectors - total / 512 + 1; expected = Tier.RequestError; what += " past the end"; break;
                    case 1: sector = ulong.MaxValue - 2; expected = Tier.RequestError; what += " at sector 2^64-3"; break;
                    case 2: data[0] = (data[0].Address, data[0].Length - 1, writable); expected = Tier.RequestError; what += " not whole sectors"; break;
                    case 3 when writable:
                        // A readable data buffer on a read request: framing in the wrong direction.
                        data.Insert(0, (d.Alloc(512), 512, false)); expected = Tier.RequestError; what += " with a readable buffer"; break;
                    case 4:
                        // Near and above 2^31, and near 2^32: far past this disk, and above what one request may move.
                        uint huge = rng.Next(3) switch { 0 => 0x7FFF_FE00u, 1 => 0x8000_0000u, _ => 0xFFFF_FE00u };
                        data.Clear();
                        data.Add((HugeAt, huge, writable));
                        sector = 0;
                        expected = Tier.RequestError;
                        what = $"{(writable ? "IN" : "OUT")} of 0x{huge:x} bytes";
                        break;
                    default:
                        sector = Math.Min(sector, sectors - total / 512);
                        what = $"{(writable ? "IN" : "OUT")} {total} bytes at sector {sector}";
                        break;
                }
                break;
            }
            case 4:
                type = rng.Next(2) == 0 ? VirtioBlkType.Flush : VirtioBlkType.FlushOut;
                what = "FLUSH";
                break;
            case 5: // GET_ID, sometimes into a buffer of 2 GiB or more
            {
                type = VirtioBlkType.GetId;
                uint length = rng.Next(3) switch { 0 => (uint)rng.Next(1, 40), 1 => 0x8000_0000u, _ => 0xFFFF_FFE0u }; // a chain totals at most 4 GiB - 1
                data.Add((length > 4096 ? HugeAt : d.Alloc((int)length, 1), length, true));
                what = $"GET_ID into 0x{length:x} bytes";
                break;
            }
            case 6 or 7: // DISCARD / WRITE_ZEROES with one 16-byte segment
            {
                type = rng.Next(2) == 0 ? VirtioBlkType.Discard : VirtioBlkType.WriteZeroes;
                uint count = (uint)rng.Next(0, 64);
                ulong start = Math.Min(sector, sectors - count);
                uint flags = type == VirtioBlkType.WriteZeroes ? (uint)rng.Next(2) : 0;
                what = $"{(type == VirtioBlkType.Discard ? "DISCARD" : "WRITE_ZEROES")} {count} sectors at {start}";
                switch (rng.Next(5))
                {
                    case 0: start = sectors; count = 1; expected = Tier.RequestError; what += " past the end"; break;
                    case 1: flags = 2; expected = Tier.RequestError; what += " with unknown flags"; break;
                }
                ulong seg = d.Alloc(16);
                var s = d.Bytes(seg, 16);
                BinaryPrimitives.WriteUInt64LittleEndian(s, start);
                BinaryPrimitives.WriteUInt32LittleEndian(s[8..], count);
                BinaryPrimitives.WriteUInt32LittleEndian(s[12..], flags);
                data.Add((seg, 16, false));
                break;
            }
            default:
                type = (uint)rng.Next(14, 1 << 20);
                expected = Tier.RequestError;
                what = $"unknown type {type}";
                break;
        }

        var segs = new List<(ulong, uint, bool)> { (d.BlkHeader(type, sector), 16, false) };
        segs.AddRange(data);
        ulong status = d.StatusByte();
        segs.Add((status, 1, true));
        ushort head = d.Chain([.. segs]);
        ushort before = d.UsedIdx;

        // Rare corruptions of the chain or the ring (tier 2).
        if (rng.Next(100) < 4)
        {
            expected = Tier.NeedsReset;
            int last = (head + segs.Count - 1) & (QueueSize - 1);
            switch (rng.Next(8))
            {
                case 0: d.SetDesc(head, FakeVirtqDriver.RamBase + RamBytes - 8, 16, SplitVirtqueue.DescNext, (ushort)((head + 1) & (QueueSize - 1))); what = "header straddles the end of RAM"; break;
                case 1: d.SetDesc(head, 0xFFFF_FFFF_FFFF_FFF8, 16, SplitVirtqueue.DescNext, (ushort)((head + 1) & (QueueSize - 1))); what = "header address wraps 2^64"; break;
                case 2: d.SetDesc(head, d.BlkHeader(type, sector), 16, SplitVirtqueue.DescNext, QueueSize + 3); what = "next out of range"; break;
                case 3: d.SetDesc(last, status, 0, SplitVirtqueue.DescWrite); what = "zero-length status descriptor"; break;
                case 4: d.SetDesc(last, status, 1, 0); what = "status buffer readable (no writable byte, or readable after writable)"; break;
                case 5: d.SetDesc(last, status, 1, SplitVirtqueue.DescWrite | SplitVirtqueue.DescNext, head); what = "chain loops"; break;
                case 6: d.AvailIdx += QueueSize + 1; what = "avail index jumps"; break;
                default: d.SetAvailSlot(d.AvailIdx & (QueueSize - 1), QueueSize + 1); d.AvailIdx++; what = "head out of range"; break;
            }
            if (what is not ("avail index jumps" or "head out of range")) d.Publish(head);
        }
        else d.Publish(head);

        int resetsBefore = h.Resets.Count;
        for (int pass = 0; pass < 1000 && d.UsedIdx == before && h.Resets.Count == resetsBefore; pass++) h.Blk.Service();
        while (h.Blk.EngineInFlight > 0) h.Blk.Service();

        if (h.Resets.Count > resetsBefore)
        {
            actual = Tier.NeedsReset;
            Assert.Equal(before, d.UsedIdx); // nothing of a corrupt chain is published
        }
        else
        {
            Assert.Equal((ushort)(before + 1), d.UsedIdx);
            Assert.Equal(head, (ushort)d.Used(before).Id);
            byte st = *d.Host(status);
            actual = st == VirtioBlkType.StatusOk ? Tier.Ok
                   : st is VirtioBlkType.StatusIoErr or VirtioBlkType.StatusUnsupported ? Tier.RequestError
                   : throw new Xunit.Sdk.XunitException($"status byte 0x{st:x2} after {what}");
        }
        return (expected, what);
    }
}
