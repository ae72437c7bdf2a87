using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>Sizes as bhyve reads them (`-m`, nvme `ram=`): a K/M/G/T suffix, or a plain number of mebibytes.</summary>
public static class BhyveSize
{
    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        if (text.Length > 0 && text.All(char.IsAsciiDigit))
        {
            if (!ulong.TryParse(text, out ulong mib) || mib > ulong.MaxValue >> 20) return false;
            bytes = mib << 20;
            return true;
        }
        return ByteSize.TryParse(text, out bytes);
    }
}
