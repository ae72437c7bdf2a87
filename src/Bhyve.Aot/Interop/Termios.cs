using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>struct termios as glibc defines it on x86-64 (60 bytes); only passed back and forth, never interpreted.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Termios
{
    // SAFETY: opaque storage the size of glibc's struct termios (60 bytes on x86-64); only libc reads or writes it
    private unsafe fixed byte _bytes[60];
}
