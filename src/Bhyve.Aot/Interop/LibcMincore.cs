using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

internal static unsafe partial class Libc
{
    /// <summary>mincore(2): one byte per page of [addr, addr + length), bit 0 set where the page is resident.</summary>
    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    public static partial int Mincore(void* addr, nuint length, byte* vec);
}
