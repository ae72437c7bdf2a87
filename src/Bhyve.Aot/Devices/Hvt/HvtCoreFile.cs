using System.Buffers.Binary;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Memory;

namespace Bhyve.Aot.Devices.Hvt;

/// <summary>x86-64 struct user_regs_struct (sys/user.h), in its field order: the registers of an ELF core's NT_PRSTATUS.</summary>
public enum CoreRegister
{
    R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8, Rax, Rcx, Rdx, Rsi, Rdi, OrigRax,
    Rip, Cs, Eflags, Rsp, Ss, FsBase, GsBase, Ds, Es, Fs, Gs,
}

/// <summary>
/// The guest core file solo5-hvt's dumpcore module writes when a unikernel aborts (status 255): DIR/core.solo5-hvt.PID,
/// an ELF64 ET_CORE file (ELFOSABI_STANDALONE, EM_X86_64) with two program headers: a PT_NOTE holding one "CORE"
/// NT_PRSTATUS note (the vCPU's registers, or the trap frame the guest's halt cookie points at for RIP, CS, RFLAGS,
/// RSP and SS), and a PT_LOAD at address 0 covering all of guest RAM. Only pages the host has resident (mincore) are
/// written; the rest stay holes in a sparse file, as in solo5-hvt.
/// </summary>
public static class HvtCoreFile
{
    public const int RegisterCount = 27;
    private const int EhdrSize = 64, PhdrSize = 56, NhdrSize = 12, NoteNameSize = 8;
    /// <summary>sizeof(prstatus_t) on x86-64 glibc; the registers (pr_reg) start at byte 112.</summary>
    public const int PrstatusSize = 336, PrstatusRegsOffset = 112;
    /// <summary>Where guest RAM starts in the file: after the headers and the note, unaligned (solo5-hvt's p_align is 0).</summary>
    public const int MemoryOffset = EhdrSize + 2 * PhdrSize + NhdrSize + NoteNameSize + PrstatusSize;

    public static string FileName(int pid) => $"core.solo5-hvt.{pid}";

    /// <summary>The header bytes up to MemoryOffset: ELF header, PT_NOTE and PT_LOAD headers, the NT_PRSTATUS note.</summary>
    public static byte[] Headers(ulong ramBytes, ReadOnlySpan<ulong> registers)
    {
        if (registers.Length != RegisterCount) throw new ArgumentException($"{RegisterCount} registers expected", nameof(registers));
        var h = new byte[MemoryOffset];
        var span = h.AsSpan();
        // e_ident: ELF, 64-bit, little-endian, version 1, ELFOSABI_STANDALONE (255).
        span[0] = 0x7F; span[1] = (byte)'E'; span[2] = (byte)'L'; span[3] = (byte)'F';
        span[4] = 2; span[5] = 1; span[6] = 1; span[7] = 255;
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], 4);            // e_type ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], 62);           // e_machine EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);            // e_version
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], EhdrSize);     // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(span[52..], EhdrSize);     // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(span[54..], PhdrSize);     // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(span[56..], 2);            // e_phnum

        const int noteOffset = EhdrSize + 2 * PhdrSize, noteSize = NhdrSize + NoteNameSize + PrstatusSize;
        var note = span.Slice(EhdrSize, PhdrSize);
        BinaryPrimitives.WriteUInt32LittleEndian(note, 4);                  // PT_NOTE
        BinaryPrimitives.WriteUInt64LittleEndian(note[8..], noteOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(note[32..], noteSize);
        BinaryPrimitives.WriteUInt64LittleEndian(note[40..], noteSize);
        var load = span.Slice(EhdrSize + PhdrSize, PhdrSize);
        BinaryPrimitives.WriteUInt32LittleEndian(load, 1);                  // PT_LOAD, flags 0, vaddr = paddr = 0
        BinaryPrimitives.WriteUInt64LittleEndian(load[8..], MemoryOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(load[32..], ramBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(load[40..], ramBytes);

        var nhdr = span[noteOffset..];
        BinaryPrimitives.WriteUInt32LittleEndian(nhdr, NoteNameSize);
        BinaryPrimitives.WriteUInt32LittleEndian(nhdr[4..], PrstatusSize);
        BinaryPrimitives.WriteUInt32LittleEndian(nhdr[8..], 1);             // NT_PRSTATUS
        "CORE"u8.CopyTo(nhdr[NhdrSize..]);
        var regs = nhdr[(NhdrSize + NoteNameSize + PrstatusRegsOffset)..];
        for (int i = 0; i < RegisterCount; i++) BinaryPrimitives.WriteUInt64LittleEndian(regs[(i * 8)..], registers[i]);
        return h;
    }

    /// <summary>
    /// Writes the core file into directory; returns its path and how many 4 KiB pages of how many were dumped.
    /// Throws IOException (the file exists, the disk is full, ...) with the reason.
    /// </summary>
    // SAFETY: host comes from TryTranslate for [0, ram), checked; mincore fills one byte per page of that range into
    // resident (pages bytes); each write reads page * 4096 .. (page + run) * 4096, inside [0, ram).
    // SAFETY: host comes from TryTranslate of all ram bytes from 0; mincore gets that range and a pinned vector of one byte per page; writes stay inside it
    public static unsafe (string Path, long Dumped, long Pages) Write(string directory, int pid, GuestMemory memory, ReadOnlySpan<ulong> registers)
    {
        ulong ram = memory.TotalBytes;
        string path = Path.Combine(directory, FileName(pid));
        // O_CREAT | O_EXCL, mode 0600, as solo5-hvt creates it.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        var handle = file.SafeFileHandle;
        RandomAccess.Write(handle, Headers(ram, registers), 0);
        if (!memory.TryTranslate(0, ram, out byte* host)) throw new IOException("guest RAM is not one range from 0");
        long pages = (long)(ram / 4096), dumped = 0;
        var resident = new byte[pages];
        // mincore needs a page-aligned address; guest RAM is mmap'ed, so only a test's heap-backed RAM falls back to "all resident".
        if (((nint)host & 4095) != 0) resident.AsSpan().Fill(1);
        else
            fixed (byte* vec = resident)
                if (Libc.Mincore(host, (nuint)ram, vec) < 0) throw new IOException($"mincore failed: {Libc.Describe(Libc.LastErrno)}");
        // Runs of resident pages go out in one write each (at most 1 MiB), so a mostly untouched 4 GiB guest costs little.
        for (long page = 0; page < pages;)
        {
            if ((resident[page] & 1) == 0) { page++; continue; }
            long run = 1;
            while (page + run < pages && run < 256 && (resident[page + run] & 1) != 0) run++;
            RandomAccess.Write(handle, new ReadOnlySpan<byte>(host + page * 4096, (int)(run * 4096)), MemoryOffset + page * 4096);
            dumped += run;
            page += run;
        }
        // The PT_LOAD claims all of RAM: the file ends where RAM does, holes included.
        file.SetLength(MemoryOffset + (long)ram);
        return (path, dumped, pages);
    }
}
