using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>
/// pref_address, kernel_alignment and init_size come from the file: the loader's arithmetic on them must refuse
/// what would pass 2^64, never wrap to a low address (under the 1 MiB refusal) or into a GuestMemoryException.
/// </summary>
public sealed class BzImageAddressTests : IDisposable
{
    private const ulong RamSize = 64 * GuestLayout.MiB;
    private readonly FakeRam _ram = new(RamSize, fill: 0xAA);
    private static readonly MemoryMapEntry[] Map = GuestLayout.MemoryMap(RamSize);

    public void Dispose() => _ram.Dispose();

    [Fact]
    public void A_relocatable_pref_address_that_rounds_past_2_64_is_refused_not_loaded_at_0()
    {
        var image = new BzImageBuilder { PrefAddress = 0xFFFF_FFFF_FFF0_0001, KernelAlignment = 0x20_0000 }.Build();
        var e = Assert.Throws<BootImageException>(() => LinuxLoader.LoadBzImage(image, _ram.Memory, Map, "", [], 0));
        Assert.Contains("past the end of the 64-bit address space", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void A_fixed_pref_address_whose_init_size_passes_2_64_is_refused_as_an_image_error()
    {
        var image = new BzImageBuilder { PrefAddress = 0xFFFF_FFFF_FFFF_F000, Relocatable = 0 }.Build();
        var e = Assert.Throws<BootImageException>(() => LinuxLoader.LoadBzImage(image, _ram.Memory, Map, "", [], 0));
        Assert.Contains("bzImage load address + init_size", e.Message);
    }

    [Fact]
    public void A_fixed_pref_address_above_RAM_is_refused()
    {
        var image = new BzImageBuilder { PrefAddress = 0x1_0000_0000_0000, Relocatable = 0 }.Build();
        var e = Assert.Throws<BootImageException>(() => LinuxLoader.LoadBzImage(image, _ram.Memory, Map, "", [], 0));
        Assert.Contains("bytes of RAM from 0x1000000000000", e.Message);
    }

    /// <summary>
    /// Structure-aware: valid images whose address fields are drawn from edge values (near 0, 1 MiB, RAM's end,
    /// 4 GiB, 2^63, 2^64) and random ones. Each loads inside RAM above 1 MiB, or is refused with BootImageException.
    /// </summary>
    [Fact]
    public void Address_fields_at_their_edges_load_inside_RAM_or_are_refused()
    {
        var random = new Random(16);
        ulong[] edges = [0, 0x1000, 0xF_FFFF, 0x10_0000, 0x10_0001, RamSize - 0x8000, RamSize, 0xFFFF_FFFF, 1UL << 32, 1UL << 63,
                         ulong.MaxValue - 0x1F_FFFF, ulong.MaxValue - 0xFFF, ulong.MaxValue];
        uint[] alignments = [0x1000, 0x20_0000, 0x100_0000, 1u << 30];
        int loaded = 0, refused = 0;
        for (int i = 0; i < 3000; i++)
        {
            ulong pref = random.Next(3) == 0 ? (ulong)random.NextInt64() * 2 + (ulong)random.Next(2) : edges[random.Next(edges.Length)] + (ulong)random.Next(-2, 3);
            var b = new BzImageBuilder
            {
                PrefAddress = pref,
                Relocatable = (byte)random.Next(2),
                KernelAlignment = alignments[random.Next(alignments.Length)],
                InitSize = random.Next(4) switch { 0 => uint.MaxValue, 1 => (uint)random.Next(0x2000, 0x10_0000), _ => 0x8000 },
            };
            try
            {
                var boot = LinuxLoader.LoadBzImage(b.Build(), _ram.Memory, Map, "", [], 0);
                Assert.True(boot.KernelStart >= GuestLayout.KernelMinimum, $"pref 0x{pref:x}: loaded at 0x{boot.KernelStart:x}");
                Assert.True(boot.KernelEnd <= RamSize && boot.KernelStart < boot.KernelEnd, $"pref 0x{pref:x}: 0x{boot.KernelStart:x}-0x{boot.KernelEnd:x}");
                Assert.Equal(boot.KernelStart + BzImage.Entry64Offset, boot.Entry);
                loaded++;
            }
            catch (BootImageException) { refused++; }
        }
        Assert.True(loaded > 100 && refused > 100, $"loaded {loaded}, refused {refused}: both outcomes should be reached");
    }
}
