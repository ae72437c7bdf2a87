using System.Buffers.Binary;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot;

/// <summary>
/// Writes struct hvm_start_info (version 1, from Xen's public arch-x86/hvm/start_info.h) and its memory map:
/// the one structure a PVH kernel receives, by physical address in EBX.
/// </summary>
public static class HvmStartInfo
{
    public const uint Magic = 0x336E_C578;
    public const int Size = 56;
    public const int MemmapEntrySize = 24;
    public const int ModuleEntrySize = 32;
    // Field offsets.
    internal const int NrModules = 12, ModlistPaddr = 16, CmdlinePaddr = 24, RsdpPaddr = 32, MemmapPaddr = 40, MemmapEntries = 48;

    /// <summary>
    /// Lays out start info, memmap and command line in guest RAM; returns the start info address. An initrd
    /// becomes module 0 (Linux takes its first module as the initrd), described at moduleListAddress.
    /// </summary>
    public static ulong Write(GuestMemory memory, ulong address, IReadOnlyList<MemoryMapEntry> memoryMap, ulong cmdlineAddress, string cmdline,
        in BootExtras extras = default, ulong moduleListAddress = GuestLayout.PvhModuleListAddress)
    {
        byte[] cmdlineBytes = System.Text.Encoding.UTF8.GetBytes(cmdline);
        if (cmdlineBytes.Length > GuestLayout.CmdlineMax)
            throw new BootImageException($"command line is {cmdlineBytes.Length} bytes; at most {GuestLayout.CmdlineMax} fit");
        var cmdSpan = memory.GetSpan(cmdlineAddress, (ulong)cmdlineBytes.Length + 1);
        cmdlineBytes.CopyTo(cmdSpan);
        cmdSpan[^1] = 0;

        ulong memmapAddress = address + Size;
        var info = memory.GetSpan(address, Size);
        info.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(info[0..], Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 1); // version 1: has the memmap fields
        BinaryPrimitives.WriteUInt64LittleEndian(info[CmdlinePaddr..], cmdlineAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(info[RsdpPaddr..], extras.RsdpAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(info[MemmapPaddr..], memmapAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(info[MemmapEntries..], (uint)memoryMap.Count);
        if (extras.InitrdSize > 0)
        {
            var module = memory.GetSpan(moduleListAddress, ModuleEntrySize);
            module.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(module, extras.InitrdAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(module[8..], extras.InitrdSize);
            BinaryPrimitives.WriteUInt32LittleEndian(info[NrModules..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(info[ModlistPaddr..], moduleListAddress);
        }

        var map = memory.GetSpan(memmapAddress, (ulong)(memoryMap.Count * MemmapEntrySize));
        for (int i = 0; i < memoryMap.Count; i++)
        {
            var e = map.Slice(i * MemmapEntrySize, MemmapEntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(e[0..], memoryMap[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], memoryMap[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)memoryMap[i].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 0);
        }
        if (memmapAddress + (ulong)map.Length > cmdlineAddress && address < cmdlineAddress)
            throw new InvalidOperationException("memory map runs into the command line");
        return address;
    }
}
