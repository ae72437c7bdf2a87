using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>
/// The register state the PVH ABI promises at the 32-bit entry: protected mode, paging off, flat 4 GiB
/// code and data segments, a 32-bit TSS, EBX = start info, EFLAGS with only the reserved bit set.
/// The GDT those selectors come from is written to guest RAM too, so hidden and visible state agree.
/// </summary>
public static class BootCpuState
{
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18;
    public const ulong Cr0ProtectionEnable = 1, Cr0ExtensionType = 1 << 4;

    // Descriptors: flat 32-bit code (exec/read), flat 32-bit data (read/write), 32-bit TSS of 0x68 bytes.
    public static ReadOnlySpan<ulong> Gdt => [0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x0000_8B00_0000_0067];

    public static void WriteGdt(GuestMemory memory)
    {
        for (int i = 0; i < Gdt.Length; i++) memory.Write(GuestLayout.BootGdtAddress + (ulong)(i * 8), Gdt[i]);
    }

    internal static void Apply(Vcpu vcpu, uint entry, ulong startInfo)
    {
        var sregs = vcpu.GetSregs();
        var code = FlatSegment(CodeSelector, type: 0xB);
        var data = FlatSegment(DataSelector, type: 0x3);
        sregs.Cs = code;
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = data;
        sregs.Tr = new KvmSegment { Base = 0, Limit = 0x67, Selector = TssSelector, Type = 0xB, Present = 1 };
        sregs.Gdt = new KvmDtable { Base = GuestLayout.BootGdtAddress, Limit = (ushort)(Gdt.Length * 8 - 1) };
        sregs.Idt = new KvmDtable { Base = 0, Limit = 0 };
        sregs.Cr0 = Cr0ProtectionEnable | Cr0ExtensionType;
        sregs.Cr3 = 0;
        sregs.Cr4 = 0;
        sregs.Efer = 0;
        vcpu.SetSregs(sregs);

        vcpu.SetRegs(new KvmRegs { Rip = entry, Rbx = startInfo, Rflags = 0x2 });
    }

    // Linux 64-bit boot protocol: __BOOT_CS = 0x10 (64-bit code), __BOOT_DS = 0x18 (flat data), then a TSS.
    public const ushort Linux64CodeSelector = 0x10, Linux64DataSelector = 0x18, Linux64TssSelector = 0x20;
    public static ReadOnlySpan<ulong> Linux64Gdt => [0, 0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x0000_8B00_0000_0067];
    public const ulong Cr0Pg = 1UL << 31, Cr0Ne = 1 << 5, Cr4Pae = 1 << 5, EferLme = 1 << 8, EferLma = 1 << 10;
    private const ulong PagePresentWritable = 0x3, PageSize2M = 0x80;

    /// <summary>The GDT of the 64-bit entry and identity page tables for the first 4 GiB (2 MiB pages).</summary>
    public static void WriteLinux64Tables(GuestMemory memory)
    {
        for (int i = 0; i < Linux64Gdt.Length; i++) memory.Write(GuestLayout.BootGdtAddress + (ulong)(i * 8), Linux64Gdt[i]);
        ulong pml4 = GuestLayout.BootPageTablesAddress, pdpt = pml4 + 0x1000, pd = pdpt + 0x1000;
        memory.GetSpan(pml4, GuestLayout.BootPageTablesEnd - pml4).Clear();
        memory.Write(pml4, pdpt | PagePresentWritable);
        for (ulong g = 0; g < 4; g++)
        {
            memory.Write(pdpt + g * 8, (pd + g * 0x1000) | PagePresentWritable);
            for (ulong m = 0; m < 512; m++)
                memory.Write(pd + g * 0x1000 + m * 8, ((g << 30) + (m << 21)) | PagePresentWritable | PageSize2M);
        }
    }

    /// <summary>Long mode with paging on the identity map, flat segments from <see cref="Linux64Gdt"/>, RSI = zero page.</summary>
    internal static void ApplyLinux64(Vcpu vcpu, ulong entry, ulong zeroPage)
    {
        var sregs = vcpu.GetSregs();
        var code = FlatSegment(Linux64CodeSelector, type: 0xB);
        code.L = 1;
        code.Db = 0;
        var data = FlatSegment(Linux64DataSelector, type: 0x3);
        sregs.Cs = code;
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = data;
        sregs.Tr = new KvmSegment { Base = 0, Limit = 0x67, Selector = Linux64TssSelector, Type = 0xB, Present = 1 };
        sregs.Gdt = new KvmDtable { Base = GuestLayout.BootGdtAddress, Limit = (ushort)(Linux64Gdt.Length * 8 - 1) };
        sregs.Idt = new KvmDtable { Base = 0, Limit = 0 };
        sregs.Cr0 = Cr0ProtectionEnable | Cr0ExtensionType | Cr0Ne | Cr0Pg;
        sregs.Cr3 = GuestLayout.BootPageTablesAddress;
        sregs.Cr4 = Cr4Pae;
        sregs.Efer = EferLme | EferLma;
        vcpu.SetSregs(sregs);
        vcpu.SetRegs(new KvmRegs { Rip = entry, Rsi = zeroPage, Rflags = 0x2 });
    }

    private static KvmSegment FlatSegment(ushort selector, byte type) => new()
    {
        Base = 0,
        Limit = 0xFFFF_FFFF,
        Selector = selector,
        Type = type,
        Present = 1,
        Dpl = 0,
        Db = 1,
        S = 1,
        L = 0,
        G = 1,
    };
}
