using System.Runtime.InteropServices;

namespace Bhyve.Aot.Interop;

internal static partial class Libc
{
    /// <summary>mincore(2): one byte per page of [addr, addr + length), bit 0 set where the page is resident.</summary>
    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    // SAFETY: a binding only; callers pass a mapped range and a vector of one byte per page of it
    public static unsafe partial int Mincore(void* addr, nuint length, byte* vec);

}
