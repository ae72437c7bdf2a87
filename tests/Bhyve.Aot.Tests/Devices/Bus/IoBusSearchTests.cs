using Bhyve.Aot.Devices.Bus;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Bus;

/// <summary>
/// IoBus.TryFind is a binary search; a linear scan over the same ranges is the obvious reference.
/// Many random layouts and probes (seeded, so a failure reproduces) concentrate on range edges.
/// </summary>
public class IoBusSearchTests
{
    private sealed record Placed(ulong Base, ulong Length, RecordingDevice Device)
    {
        public bool Holds(ulong address, int size) =>
            address >= Base && address - Base < Length && (ulong)size <= Length - (address - Base);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Binary_search_agrees_with_a_linear_scan(int seed)
    {
        var random = new Random(seed);
        for (int layout = 0; layout < 20; layout++)
        {
            var (bus, placed) = RandomBus(random, count: random.Next(1, 200));
            for (int probe = 0; probe < 2000; probe++)
            {
                ulong address = Probe(random, placed);
                int size = random.Next(4) switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
                var expected = placed.FirstOrDefault(p => p.Holds(address, size));

                bool found = bus.TryFind(address, size, out var device, out ulong offset);

                Assert.True(expected is not null == found, $"seed {seed}: 0x{address:x}/{size} found={found}, expected {expected}");
                if (expected is not null)
                {
                    Assert.Same(expected.Device, device);
                    Assert.Equal(address - expected.Base, offset);
                }
            }
        }
    }

    [Fact]
    public void Registration_order_does_not_matter()
    {
        var random = new Random(42);
        var (_, placed) = RandomBus(random, 64);
        var forward = new IoBus("f");
        var backward = new IoBus("b");
        foreach (var p in placed) forward.Register(p.Base, p.Length, p.Device);
        foreach (var p in Enumerable.Reverse(placed)) backward.Register(p.Base, p.Length, p.Device);
        foreach (var p in placed)
            foreach (ulong a in new[] { p.Base, p.Base + p.Length - 1 })
            {
                Assert.True(forward.TryFind(a, 1, out var f, out _));
                Assert.True(backward.TryFind(a, 1, out var b, out _));
                Assert.Same(p.Device, f);
                Assert.Same(p.Device, b);
            }
    }

    /// <summary>Disjoint ranges with random gaps (sometimes none), registered in shuffled order.</summary>
    private static (IoBus, List<Placed>) RandomBus(Random random, int count)
    {
        var placed = new List<Placed>();
        ulong next = (ulong)random.Next(0, 0x100);
        for (int i = 0; i < count; i++)
        {
            ulong gap = random.Next(3) == 0 ? 0 : (ulong)random.Next(1, 0x40);
            ulong length = (ulong)random.Next(1, 0x20);
            placed.Add(new Placed(next + gap, length, new RecordingDevice($"d{i}")));
            next += gap + length;
        }
        var bus = new IoBus("random");
        foreach (var p in placed.OrderBy(_ => random.Next())) bus.Register(p.Base, p.Length, p.Device);
        return (bus, placed);
    }

    /// <summary>Mostly addresses at or next to a range edge, where off-by-one errors live; sometimes anywhere.</summary>
    private static ulong Probe(Random random, List<Placed> placed)
    {
        var p = placed[random.Next(placed.Count)];
        return random.Next(6) switch
        {
            0 => p.Base,
            1 => p.Base - Math.Min(p.Base, 1),
            2 => p.Base + p.Length - 1,
            3 => p.Base + p.Length,
            4 => p.Base + (ulong)random.Next((int)p.Length),
            _ => (ulong)random.NextInt64(0, (long)(placed[^1].Base + placed[^1].Length + 0x40)),
        };
    }
}
