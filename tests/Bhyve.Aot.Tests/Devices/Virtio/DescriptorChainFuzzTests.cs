using System.Diagnostics;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>
/// Random descriptor tables (the guest controls every bit of them): the walk always returns, quickly, and a chain
/// it accepts lies entirely in guest RAM with the lengths and count it reports.
/// </summary>
public sealed unsafe class DescriptorChainFuzzTests
{
    private const ulong RamBase = 0x10_0000, RamSize = 1 << 20;

    [Theory]
    [InlineData(1, 16)]
    [InlineData(2, 256)]
    [InlineData(3, 4)]
    public void Random_tables_never_throw_and_accepted_chains_stay_in_RAM(int seed, int queueSize)
    {
        var rng = new Random(seed);
        using var ram = new FakeRam(RamSize, RamBase);
        var q = SplitVirtqueue.TryCreate(ram.Memory, (ushort)queueSize, RamBase, RamBase + 0x4000, RamBase + 0x8000, false, out _)!;
        var segments = new ChainSegment[64];
        int accepted = 0;
        var errors = new HashSet<ChainError>();
        var clock = Stopwatch.StartNew();

        // Random bytes everywhere past the rings: what a stray address or a bad table points at is garbage too.
        rng.NextBytes(ram.HostSpan(0x10000, (int)RamSize - 0x10000));
        for (int round = 0; round < 3000; round++)
        {
            for (int i = 0; i < queueSize; i++)
                FakeVirtqDriver.WriteDescriptor(ram.Host, i, RandomAddress(rng), RandomLength(rng), RandomFlags(rng), RandomNext(rng, queueSize));
            // Some indirect tables well formed in size and place, pointing at random descriptors.
            for (int k = 0; k < 3; k++)
            {
                uint entries = (uint)rng.Next(1, 40);
                ulong table = RamBase + 0x10000 + (ulong)rng.Next(0, (int)RamSize - 0x10000 - 40 * 16) / 16 * 16;
                FakeVirtqDriver.WriteDescriptor(ram.Host, rng.Next(queueSize), table, entries * 16, SplitVirtqueue.DescIndirect, 0);
                for (int e = 0; e < entries; e++)
                    FakeVirtqDriver.WriteDescriptor(ram.Host + (table - RamBase), e, RandomAddress(rng), RandomLength(rng),
                        (ushort)(RandomFlags(rng) & ~SplitVirtqueue.DescIndirect), (ushort)rng.Next(0, (int)entries + 2));
            }

            for (int h = 0; h < 8; h++)
            {
                ushort head = (ushort)rng.Next(queueSize);
                var error = DescriptorChain.Walk(q, ram.Memory, head, indirectAllowed: rng.Next(4) != 0, segments, out int count, out ulong total);
                errors.Add(error);
                if (error != ChainError.None) continue;
                accepted++;
                Assert.InRange(count, 1, segments.Length);
                ulong sum = 0;
                bool seenWritable = false;
                for (int s = 0; s < count; s++)
                {
                    ulong start = (ulong)(segments[s].Host - ram.Host);
                    Assert.True(segments[s].Length > 0);
                    Assert.True(start < RamSize && segments[s].Length <= RamSize - start, $"segment {s} at +0x{start:x} len {segments[s].Length} leaves RAM");
                    Assert.False(seenWritable && !segments[s].Writable, "readable after writable accepted");
                    seenWritable |= segments[s].Writable;
                    sum += segments[s].Length;
                }
                Assert.Equal(sum, total);
            }
        }

        // The generator must reach both outcomes, or the test proves little.
        Assert.True(accepted > 100, $"only {accepted} chains accepted");
        Assert.True(errors.Count >= 8, "errors seen: " + string.Join(", ", errors));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"walks took {clock.Elapsed}");
    }

    private static ulong RandomAddress(Random rng) => rng.Next(10) switch
    {
        0 => (ulong)rng.NextInt64(),                                    // anywhere
        1 => ulong.MaxValue - (ulong)rng.Next(0, 4096),                 // wrapping
        2 => RamBase + RamSize - (ulong)rng.Next(0, 4096),              // straddling the end
        3 => RamBase - (ulong)rng.Next(1, 4096),                        // just below
        _ => RamBase + (ulong)rng.Next(0, (int)RamSize),               // inside (mostly)
    };

    private static uint RandomLength(Random rng) => rng.Next(10) switch
    {
        0 => 0,
        1 => (uint)rng.NextInt64(0, uint.MaxValue + 1L),
        _ => (uint)rng.Next(1, 8192),
    };

    private static ushort RandomFlags(Random rng) => rng.Next(10) switch
    {
        0 => (ushort)rng.Next(0, 65536),
        1 => SplitVirtqueue.DescIndirect,
        _ => (ushort)rng.Next(0, 4), // NEXT and WRITE combinations
    };

    private static ushort RandomNext(Random rng, int queueSize) =>
        rng.Next(10) == 0 ? (ushort)rng.Next(0, 65536) : (ushort)rng.Next(0, queueSize);
}
