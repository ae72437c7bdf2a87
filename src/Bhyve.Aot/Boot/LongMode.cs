using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>
/// The 64-bit entry state both the Solo5 hvt ABI and the Linux 64-bit boot protocol promise: long mode at CPL0,
/// paging on with an identity map in 2 MiB pages, flat 64-bit code and data segments from a GDT in guest RAM,
/// interrupts off. The caller picks where the tables live and what RSP, RDI and RSI hold.
/// </summary>
public static class LongMode
{
    public const ushort CodeSelector = 0x08, DataSelector = 0x10;
    public const ulong Cr0Pe = 1, Cr0Et = 1 << 4, Cr0Ne = 1 << 5, Cr0Wp = 1 << 16, Cr0Pg = 1UL << 31;
    public const ulong Cr4Pae = 1 << 5, Cr4OsFxsr = 1 << 9, Cr4OsXmmExcpt = 1 << 10;
    public const ulong EferLme = 1 << 8, EferLma = 1 << 10;
    public const ulong PagePresent = 1, PageWritable = 2, PageLarge = 1 << 7;
    public const ulong LargePageSize = 2 * GuestLayout.MiB;
    /// <summary>One PDPT with up to four page directories: identity maps reach 4 GiB.</summary>
    public const ulong MaxIdentityMap = 4 * GuestLayout.GiB;

    // Null, 64-bit code (exec/read, L=1), data (read/write): the selectors the vCPU state below names.
    public static ReadOnlySpan<ulong> Gdt => [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF];

    public static void WriteGdt(GuestMemory memory, ulong address)
    {
        for (int i = 0; i < Gdt.Length; i++) memory.Write(address + (ulong)(i * 8), Gdt[i]);
    }

    /// <summary>Bytes of page tables an identity map of this size takes (PML4, PDPT, one PD per GiB).</summary>
    public static ulong PageTableBytes(ulong mapBytes) => (2 + PageDirectories(mapBytes)) * 4096;

    /// <summary>PML4 at pml4, the PDPT in the next page, then the page directories; maps [0, mapBytes) rounded up to 2 MiB.</summary>
    public static void WriteIdentityPageTables(GuestMemory memory, ulong pml4, ulong mapBytes)
    {
        if (mapBytes == 0 || mapBytes > MaxIdentityMap) throw new ArgumentOutOfRangeException(nameof(mapBytes));
        memory.GetSpan(pml4, PageTableBytes(mapBytes)).Clear();
        ulong pdpt = pml4 + 4096, pd = pml4 + 2 * 4096;
        memory.Write(pml4, pdpt | PagePresent | PageWritable);
        for (ulong i = 0; i < PageDirectories(mapBytes); i++) memory.Write(pdpt + i * 8, (pd + i * 4096) | PagePresent | PageWritable);
        for (ulong address = 0, slot = 0; address < mapBytes; address += LargePageSize, slot++)
            memory.Write(pd + slot * 8, address | PagePresent | PageWritable | PageLarge);
    }

    internal static void Apply(Vcpu vcpu, ulong gdt, ulong pml4, ulong entry, ulong rsp, ulong rdi, ulong rsi, ulong cr0Extra = 0)
    {
        var sregs = vcpu.GetSregs();
        sregs.Cs = Segment(CodeSelector, type: 0xB, longMode: true);
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = Segment(DataSelector, type: 0x3, longMode: false);
        // No TSS in the GDT: VM entry in long mode only needs TR usable and of type "busy 64-bit TSS" (as solo5-hvt sets it).
        sregs.Tr = new KvmSegment { Type = 0xB, Present = 1 };
        sregs.Ldt = new KvmSegment { Unusable = 1 };
        sregs.Gdt = new KvmDtable { Base = gdt, Limit = (ushort)(Gdt.Length * 8 - 1) };
        sregs.Idt = new KvmDtable { Base = 0, Limit = 0 };
        sregs.Cr0 = Cr0Pe | Cr0Et | Cr0Ne | Cr0Pg | cr0Extra;
        sregs.Cr3 = pml4;
        sregs.Cr4 = Cr4Pae | Cr4OsFxsr | Cr4OsXmmExcpt;
        sregs.Efer = EferLme | EferLma;
        vcpu.SetSregs(sregs);
        vcpu.SetRegs(new KvmRegs { Rip = entry, Rsp = rsp, Rdi = rdi, Rsi = rsi, Rflags = 0x2 });
    }

    private static ulong PageDirectories(ulong mapBytes) => (mapBytes + GuestLayout.GiB - 1) / GuestLayout.GiB;

    private static KvmSegment Segment(ushort selector, byte type, bool longMode) => new()
    {
        Base = 0,
        Limit = 0xFFFF_FFFF,
        Selector = selector,
        Type = type,
        Present = 1,
        S = 1,
        L = (byte)(longMode ? 1 : 0),
        Db = (byte)(longMode ? 0 : 1),
        G = 1,
    };
}
