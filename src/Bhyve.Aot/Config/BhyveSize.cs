using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>Sizes as bhyve reads them (`-m`, `memory.size`, nvme `ram=`): the same rules as every other front end's (ByteSize).</summary>
public static class BhyveSize
{
    public static bool TryParse(string text, out ulong bytes) => ByteSize.TryParse(text, out bytes);
}
