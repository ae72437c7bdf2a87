using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>Randomly corrupted setup headers: the loader either boots them or refuses them with BootImageException, nothing else.</summary>
public sealed class BzImageFuzzTests : IDisposable
{
    private readonly FakeRam _ram = new(64 * GuestLayout.MiB);

    public void Dispose() => _ram.Dispose();

    [Fact]
    public void Corrupt_headers_are_loaded_or_refused_never_crash()
    {
        var random = new Random(7);
        byte[] good = new BzImageBuilder().Build();
        var map = GuestLayout.MemoryMap(64 * GuestLayout.MiB);
        int refused = 0, loaded = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] image = (byte[])good.Clone();
            int flips = random.Next(1, 6);
            for (int f = 0; f < flips; f++) image[random.Next(0x1F1, 0x270)] = (byte)random.Next(256);
            try
            {
                var kind = KernelKinds.Detect(image);
                var boot = KernelLoader.Load(kind, image, _ram.Memory, map, "console=ttyS0", [1, 2, 3], 0xE0000);
                Assert.True(boot.KernelEnd <= 64 * GuestLayout.MiB);
                loaded++;
            }
            catch (BootImageException) { refused++; }
        }
        Assert.True(refused > 100 && loaded > 100, $"refused {refused}, loaded {loaded}: the mutations should hit both outcomes");
    }
}
