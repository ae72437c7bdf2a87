namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// Tiny x86-64 programs for the Linux 64-bit entry, hand-assembled (bytes commented): they read what the
/// loader promised (a zero-page field, the byte it points at) and report it through the debug-exit port,
/// or poke the ACPI / i8042 reset and power-off registers. Each is a handful of instructions, so they run
/// even where CPL0 code goes through KVM's instruction emulator.
/// </summary>
internal static class LinuxEntryProbe
{
    /// <summary>
    /// Exits with status ((b + 1) &lt;&lt; 1 | 1) &amp; 0xFF, where b is the byte at the 32-bit address stored at
    /// zero page offset fieldOffset. The "+ 1" comes from a 64-bit immediate, so the program only gives the
    /// right answer in long mode (in 32-bit mode the REX prefixes decode as dec eax and it goes astray).
    /// </summary>
    public static byte[] ReportByteAtZeroPagePointer(int fieldOffset) =>
    [
        0x48, 0xB8, 0, 0, 0, 0, 1, 0, 0, 0,                              // mov rax, 0x1_0000_0000
        0x48, 0xC1, 0xE8, 0x20,                                          // shr rax, 32        ; rax = 1
        0x89, 0xC1,                                                      // mov ecx, eax
        0x8B, 0x86, (byte)fieldOffset, (byte)(fieldOffset >> 8), 0, 0,   // mov eax, [rsi + fieldOffset]
        0x0F, 0xB6, 0x00,                                                // movzx eax, byte [rax]
        0x01, 0xC8,                                                      // add eax, ecx
        0x66, 0xBA, 0x01, 0x05,                                          // mov dx, 0x501
        0xEE,                                                            // out dx, al
        0xF4,                                                            // hlt
    ];

    /// <summary>Writes value to an I/O port, then halts (the VMM should have ended the run by then).</summary>
    public static byte[] WritePort(ushort port, byte value) =>
    [
        0xB0, value,                                                     // mov al, value
        0x66, 0xBA, (byte)port, (byte)(port >> 8),                       // mov dx, port
        0xEE,                                                            // out dx, al
        0xF4,                                                            // hlt
        0xEB, 0xFD,                                                      // jmp hlt
    ];

    public static int StatusFor(byte b) => (((b + 1) << 1) | 1) & 0xFF;

    /// <summary>A bzImage whose 64-bit entry (0x200 into the protected-mode part) is the probe.</summary>
    public static byte[] BzImage(byte[] code)
    {
        var b = new BzImageBuilder();
        byte[] image = b.Build();
        code.CopyTo(image, b.KernelOffset + 0x200);
        return image;
    }

    /// <summary>A vmlinux-like ELF (a "Linux" note, no PVH note) entered at the probe.</summary>
    public static byte[] Vmlinux(byte[] code)
    {
        var b = new ElfBuilder { Entry = 0x100_0000 };
        b.AddLoad(0x100_0000, code, (ulong)code.Length, ElfBuilder.PfR | ElfBuilder.PfX);
        b.AddNote(ElfBuilder.Note("Linux", 0x100, [0, 0, 0, 0]));
        return b.Build();
    }
}
