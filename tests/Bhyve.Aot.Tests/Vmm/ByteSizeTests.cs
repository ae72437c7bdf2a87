using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>Sizes as users type them (--memory, -m, size=, machine files), and back: a plain number is MiB everywhere.</summary>
public class ByteSizeTests
{
    private const ulong K = 1UL << 10, M = 1UL << 20, G = 1UL << 30, T = 1UL << 40;

    [Theory]
    [InlineData("4096", 4096 * M)]
    [InlineData("64", 64 * M)]
    [InlineData("4096B", 4096UL)]
    [InlineData("4096b", 4096UL)]
    [InlineData("0", 0UL)]
    [InlineData("512K", 512 * K)]
    [InlineData("64M", 64 * M)]
    [InlineData("64m", 64 * M)]
    [InlineData("1G", 1 * G)]
    [InlineData("2T", 2 * T)]
    [InlineData("64MiB", 64 * M)]
    [InlineData("64MB", 64 * M)]
    [InlineData("64mib", 64 * M)]
    [InlineData("4KB", 4 * K)]
    [InlineData(" 64M ", 64 * M)]
    public void TryParse_accepts_sizes(string text, ulong expected)
    {
        Assert.True(ByteSize.TryParse(text, out ulong bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("lots")]
    [InlineData("M")]
    [InlineData("MiB")]
    [InlineData("-1")]
    [InlineData("+1M")]
    [InlineData("1.5G")]
    [InlineData("1,024")]
    [InlineData("64X")]
    [InlineData("64 M")]
    [InlineData("0x1000")]
    [InlineData("5iB")]
    [InlineData("18446744073709551616B")]      // 2^64
    [InlineData("17592186044416")]             // 2^44 MiB = 2^64
    [InlineData("18014398509481984K")]         // 2^54 K = 2^64
    [InlineData("16777216T")]                  // 2^24 T = 2^64
    public void TryParse_refuses_what_is_not_a_size(string text)
    {
        Assert.False(ByteSize.TryParse(text, out ulong bytes));
        Assert.Equal(0UL, bytes);
    }

    [Fact]
    public void TryParse_accepts_the_largest_values_that_fit()
    {
        Assert.True(ByteSize.TryParse("18446744073709551615B", out ulong max));
        Assert.Equal(ulong.MaxValue, max);
        Assert.True(ByteSize.TryParse("16777215T", out ulong t));
        Assert.Equal(16777215 * T, t);
    }

    [Theory]
    [InlineData(0UL, "0B")]
    [InlineData(4097UL, "4097B")]
    [InlineData(2 * K, "2K")]
    [InlineData(64 * M, "64M")]
    [InlineData(1536 * M, "1536M")]
    [InlineData(3 * G, "3G")]
    [InlineData(2048 * G, "2T")]
    [InlineData(64 * M + 4 * K, "65540K")]
    public void Format_uses_the_largest_exact_unit(ulong bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }

    [Fact]
    public void Format_then_TryParse_round_trips()
    {
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            // Mix plain byte counts with multiples of each unit, so every Format branch is exercised.
            ulong value = (ulong)random.NextInt64(0, 1L << 34) << (10 * random.Next(0, 4));
            Assert.True(ByteSize.TryParse(ByteSize.Format(value), out ulong back), ByteSize.Format(value));
            Assert.Equal(value, back);
        }
    }
}
