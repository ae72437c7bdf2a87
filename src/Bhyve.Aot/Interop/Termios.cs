using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

/// <summary>struct termios as glibc defines it on x86-64 (60 bytes); only passed back and forth, never interpreted.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Termios
{
    private fixed byte _bytes[60];
}
