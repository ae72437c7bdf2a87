using System.Buffers.Binary;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Boot.Solo5;

/// <summary>Where the boot vCPU starts: entry, struct hvt_boot_info (RDI) and the stack (RSP).</summary>
public readonly record struct HvtBoot(ulong Entry, ulong BootInfoAddress, ulong StackPointer);

/// <summary>
/// Loads a validated hvt image as solo5-hvt does: segments at their addresses (the tail of each zeroed; segments
/// with no file bytes, the bss, are left to RAM that is zero when mapped, as solo5-hvt leaves them), a GDT and
/// solo5-hvt's page tables (HvtPageTables), struct hvt_boot_info at 0x10000 in the size the image's ABI version
/// has, followed by the tender's copy of the manifest (devices marked attached, with their properties) and the
/// command line.
///
/// host_features is 0: HVT_FEATURE_RING_IO (a shared-memory net ring served by a tender I/O thread spinning on it,
/// kicked through an ioeventfd) is not offered. It was not built or measured here, so there is no measurement that
/// it beats the hypercalls; on this host a ring kick still costs an ioeventfd exit (~6.6 us against ~22 us for a
/// hypercall's exit to user space) and the I/O thread's spin competes with the vCPU for two shared cores. A guest
/// that finds host_features 0 uses the hypercalls, as with solo5-hvt on a host without ioeventfd.
/// </summary>
public static class HvtLoader
{
    public static HvtBoot Load(HvtImage image, ReadOnlySpan<byte> file, GuestMemory memory, ulong ramBytes,
        IReadOnlyDictionary<int, Solo5DeviceInfo> attached, string cmdline, ulong tscHz)
    {
        foreach (var s in image.Elf.Segments)
        {
            if (s.FileSize == 0) continue;
            file.Slice((int)s.FileOffset, (int)s.FileSize).CopyTo(memory.GetSpan(s.PhysicalAddress, s.FileSize));
            memory.GetSpan(s.PhysicalAddress + s.FileSize, s.MemorySize - s.FileSize).Clear();
        }
        LongMode.WriteGdt(memory, HvtLayout.GdtAddress);
        HvtPageTables.Write(memory, ramBytes);

        int bootInfoSize = HvtLayout.BootInfoSize(image.AbiVersion);
        ulong mftAddress = HvtLayout.BootInfoAddress + (ulong)bootInfoSize;
        ulong cmdlineAddress = mftAddress + (ulong)image.Manifest.Size;
        WriteManifest(memory.GetSpan(mftAddress, (ulong)image.Manifest.Size), image.Manifest, attached);
        WriteCmdline(memory.GetSpan(cmdlineAddress, HvtLayout.CmdlineSize), cmdline);

        var info = memory.GetSpan(HvtLayout.BootInfoAddress, (ulong)bootInfoSize);
        info.Clear();   // ABI 2: host_features = guest_features = 0, net_ring = 0 (no ring I/O, see above)
        BinaryPrimitives.WriteUInt64LittleEndian(info[0..], ramBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(info[8..], image.KernelEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(info[16..], tscHz);
        BinaryPrimitives.WriteUInt64LittleEndian(info[24..], cmdlineAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(info[32..], mftAddress);
        // x86-64 calling convention at _start: (RSP + 8) % 16 == 0, as after a call.
        return new HvtBoot(image.Entry, HvtLayout.BootInfoAddress, ramBytes - 8);
    }

    internal static void Apply(Vcpu vcpu, HvtBoot boot) =>
        // CR0.WP as solo5-hvt's X86_CR0_INIT: the guest's read-only pages bind its own CPL0 code too.
        LongMode.Apply(vcpu, HvtLayout.GdtAddress, HvtLayout.Pml4Address, boot.Entry, boot.StackPointer, rdi: boot.BootInfoAddress, rsi: 0,
            cr0Extra: LongMode.Cr0Wp);

    /// <summary>The command line solo5-hvt builds: the arguments joined by single spaces, at most HVT_CMDLINE_SIZE - 1 bytes.</summary>
    public static string JoinArguments(IReadOnlyList<string> args)
    {
        string line = string.Join(' ', args);
        if (line.Contains('\0')) throw new BootImageException("a unikernel argument contains a NUL character");
        if (System.Text.Encoding.UTF8.GetByteCount(line) > HvtLayout.CmdlineSize - 1)
            throw new BootImageException($"guest command line too long (max={HvtLayout.CmdlineSize - 1} characters)");
        return line;
    }

    private static void WriteCmdline(Span<byte> area, string cmdline)
    {
        area.Clear();
        int n = System.Text.Encoding.UTF8.GetBytes(JoinArguments([cmdline]), area[..(HvtLayout.CmdlineSize - 1)]);
        area[n] = 0;
    }

    /// <summary>struct mft as the guest reads it: names and types from the image, the host-side fields filled in.</summary>
    internal static void WriteManifest(Span<byte> area, Solo5Manifest manifest, IReadOnlyDictionary<int, Solo5DeviceInfo> attached)
    {
        area.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(area, Solo5Manifest.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(area[4..], (uint)manifest.Entries.Count);
        foreach (var entry in manifest.Entries)
        {
            var e = area.Slice(Solo5Manifest.HeaderSize + entry.Handle * Solo5Manifest.EntrySize, Solo5Manifest.EntrySize);
            System.Text.Encoding.ASCII.GetBytes(entry.Name, e);
            BinaryPrimitives.WriteUInt32LittleEndian(e[Solo5Manifest.TypeOffset..], (uint)entry.Type);
            if (!attached.TryGetValue(entry.Handle, out var device)) continue;
            var properties = e[Solo5Manifest.PropertiesOffset..];
            if (entry.Type == Solo5DeviceType.BlockBasic)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(properties, device.Capacity);
                BinaryPrimitives.WriteUInt16LittleEndian(properties[8..], device.BlockSize);
            }
            else
            {
                for (int i = 0; i < 6; i++) properties[i] = (byte)(device.Mac >> (8 * (5 - i)));
                BinaryPrimitives.WriteUInt16LittleEndian(properties[6..], device.Mtu);
            }
            // The host field (solo5-hvt's host fd) stays zero: it is none of the guest's business.
            e[Solo5Manifest.AttachedOffset] = 1;
        }
    }
}
