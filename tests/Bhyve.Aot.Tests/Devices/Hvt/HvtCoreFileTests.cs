using System.Buffers.Binary;
using Bhyve.Aot.Devices.Hvt;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Hvt;

/// <summary>The guest core file solo5-hvt's dumpcore writes: its ELF headers, NT_PRSTATUS registers and sparse RAM image.</summary>
public sealed class HvtCoreFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-core-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Headers_are_an_ET_CORE_with_one_prstatus_note_and_one_load_of_all_RAM()
    {
        var regs = new ulong[HvtCoreFile.RegisterCount];
        regs[(int)CoreRegister.Rip] = 0x10_4022;
        regs[(int)CoreRegister.Rsp] = 0xFFFF_FFE0;
        byte[] h = HvtCoreFile.Headers(64 << 20, regs);

        Assert.Equal(HvtCoreFile.MemoryOffset, h.Length);
        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 255 }, h[..8]);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(16)));      // ET_CORE
        Assert.Equal(62, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(18)));     // EM_X86_64
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(56)));      // PT_NOTE, PT_LOAD
        var note = h.AsSpan(64, 56);
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(note));
        Assert.Equal(176UL, BinaryPrimitives.ReadUInt64LittleEndian(note[8..]));
        Assert.Equal(12UL + 8 + 336, BinaryPrimitives.ReadUInt64LittleEndian(note[32..]));
        var load = h.AsSpan(120, 56);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(load));
        Assert.Equal((ulong)HvtCoreFile.MemoryOffset, BinaryPrimitives.ReadUInt64LittleEndian(load[8..]));
        Assert.Equal(64UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(load[32..]));
        var nhdr = h.AsSpan(176);
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(nhdr));
        Assert.Equal(336u, BinaryPrimitives.ReadUInt32LittleEndian(nhdr[4..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(nhdr[8..]));         // NT_PRSTATUS
        Assert.Equal("CORE\0\0\0\0"u8.ToArray(), nhdr.Slice(12, 8).ToArray());
        var prRegs = nhdr[(20 + 112)..];
        Assert.Equal(0x10_4022UL, BinaryPrimitives.ReadUInt64LittleEndian(prRegs[(16 * 8)..]));   // user_regs_struct.rip
        Assert.Equal(0xFFFF_FFE0UL, BinaryPrimitives.ReadUInt64LittleEndian(prRegs[(19 * 8)..])); // .rsp
    }

    [Fact]
    public unsafe void The_file_holds_the_resident_pages_at_their_offsets_and_is_as_long_as_RAM()
    {
        using var ram = new FakeRam(1 << 20);
        ram.HostSpan(0x3000, 16).Fill(0xAB);
        var (path, dumped, pages) = HvtCoreFile.Write(_dir, 4242, ram.Memory, new ulong[HvtCoreFile.RegisterCount]);

        Assert.Equal(Path.Combine(_dir, "core.solo5-hvt.4242"), path);
        Assert.Equal(256, pages);
        Assert.InRange(dumped, 1, 256);
        byte[] core = File.ReadAllBytes(path);
        Assert.Equal(HvtCoreFile.MemoryOffset + (1 << 20), core.Length);
        Assert.True(core.AsSpan(HvtCoreFile.MemoryOffset + 0x3000, 16).IndexOfAnyExcept((byte)0xAB) < 0);
        // An existing core is never overwritten (O_EXCL), as solo5-hvt.
        Assert.Throws<IOException>(() => HvtCoreFile.Write(_dir, 4242, ram.Memory, new ulong[HvtCoreFile.RegisterCount]));
    }
}
