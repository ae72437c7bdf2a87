using Bhyve.Aot.Boot;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Boot;

/// <summary>The Linux 64-bit entry's GDT and identity page tables, as the guest's MMU would walk them.</summary>
public sealed class BootCpuStateTests : IDisposable
{
    private readonly FakeRam _ram = new(1 * GuestLayout.MiB, fill: 0xAA);

    public void Dispose() => _ram.Dispose();

    /// <summary>Translates a virtual address through PML4, PDPT and a 2 MiB page directory entry.</summary>
    private ulong Walk(ulong va)
    {
        const ulong addressMask = 0x000F_FFFF_FFFF_F000;
        ulong pml4e = _ram.Memory.Read<ulong>(GuestLayout.BootPageTablesAddress + ((va >> 39) & 511) * 8);
        Assert.Equal(3ul, pml4e & 3);
        ulong pdpte = _ram.Memory.Read<ulong>((pml4e & addressMask) + ((va >> 30) & 511) * 8);
        Assert.Equal(3ul, pdpte & 3);
        ulong pde = _ram.Memory.Read<ulong>((pdpte & addressMask) + ((va >> 21) & 511) * 8);
        Assert.Equal(0x83ul, pde & 0x83);
        return (pde & 0x000F_FFFF_FFE0_0000) | (va & 0x1F_FFFF);
    }

    [Theory]
    [InlineData(0x0ul)]
    [InlineData(0x100_0200ul)]
    [InlineData(0x7000ul)]
    [InlineData(0xBFFF_FFFFul)]
    [InlineData(0xFFFF_FFFFul)]
    public void The_first_4_GiB_are_identity_mapped(ulong address)
    {
        BootCpuState.WriteLinux64Tables(_ram.Memory);
        Assert.Equal(address, Walk(address));
    }

    [Fact]
    public void Nothing_above_4_GiB_is_mapped_and_the_GDT_has_the_boot_selectors()
    {
        BootCpuState.WriteLinux64Tables(_ram.Memory);
        Assert.Equal(0ul, _ram.Memory.Read<ulong>(GuestLayout.BootPageTablesAddress + 0x1000 + 4 * 8));
        // __BOOT_CS (0x10): present, DPL 0, code, long mode (L=1, D=0); __BOOT_DS (0x18): writable data.
        ulong cs = _ram.Memory.Read<ulong>(GuestLayout.BootGdtAddress + 0x10);
        ulong ds = _ram.Memory.Read<ulong>(GuestLayout.BootGdtAddress + 0x18);
        Assert.Equal(1ul, (cs >> 53) & 1);
        Assert.Equal(0ul, (cs >> 54) & 1);
        Assert.Equal(0x9Bul, (cs >> 40) & 0xFF);
        Assert.Equal(0x93ul, (ds >> 40) & 0xFF);
        Assert.True(GuestLayout.BootPageTablesEnd <= GuestLayout.LowRamEnd);
    }
}
