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
