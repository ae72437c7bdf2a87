using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Bhyve.Aot.Host;

/// <summary>The CPU's identity and virtualization features from CPUID (an intrinsic, AOT-safe) and /proc/cpuinfo.</summary>
public static class CpuProbe
{
    private const int Leaf1EcxVmx = 1 << 5;
    private const int Leaf1EcxPopcnt = 1 << 23;
    private const int Leaf1EcxHypervisor = 1 << 31;
    private const int ExtLeaf1EcxSvm = 1 << 2;

    public static CpuReport Probe(HostFileSystem fs)
    {
        var procFlags = ParseCpuinfoFlags(fs.ReadText("/proc/cpuinfo"));
        if (!X86Base.IsSupported)
            return new CpuReport("not x86", "", false, false, false, false, null, procFlags);

        var (maxLeaf, vb, vc, vd) = X86Base.CpuId(0, 0);
        string vendor = Signature(vb, vd, vc);
        int ecx1 = maxLeaf >= 1 ? X86Base.CpuId(1, 0).Ecx : 0;

        int maxExt = X86Base.CpuId(unchecked((int)0x8000_0000), 0).Eax;
        bool svm = (uint)maxExt >= 0x8000_0001 && (X86Base.CpuId(unchecked((int)0x8000_0001), 0).Ecx & ExtLeaf1EcxSvm) != 0;
        string brand = "";
        if ((uint)maxExt >= 0x8000_0004)
        {
            var bytes = new byte[48];
            for (int i = 0; i < 3; i++)
            {
                var (a, b, c, d) = X86Base.CpuId(unchecked((int)(0x8000_0002 + i)), 0);
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 16), a);
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 16 + 4), b);
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 16 + 8), c);
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 16 + 12), d);
            }
            brand = Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
        }

        bool hypervisor = (ecx1 & Leaf1EcxHypervisor) != 0;
        string? hypervisorVendor = null;
        if (hypervisor)
        {
            var (_, hb, hc, hd) = X86Base.CpuId(0x4000_0000, 0);
            hypervisorVendor = Signature(hb, hc, hd);
        }

        return new CpuReport(vendor, brand, (ecx1 & Leaf1EcxVmx) != 0, svm, (ecx1 & Leaf1EcxPopcnt) != 0, hypervisor, hypervisorVendor, procFlags);
    }

    /// <summary>Three CPUID registers as the ASCII signature they spell, e.g. "GenuineIntel" or "KVMKVMKVM".</summary>
    private static string Signature(int first, int second, int third)
    {
        Span<byte> bytes = stackalloc byte[12];
        BitConverter.TryWriteBytes(bytes, first);
        BitConverter.TryWriteBytes(bytes[4..], second);
        BitConverter.TryWriteBytes(bytes[8..], third);
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
    }

    /// <summary>
    /// ept/npt/vpid from the first processor's "flags" line and, on kernels since 5.8, its "vmx flags" line;
    /// null when there is no cpuinfo text.
    /// </summary>
    public static CpuinfoFlags? ParseCpuinfoFlags(string? cpuinfo)
    {
        if (cpuinfo is null) return null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        bool sawFlags = false;
        foreach (var line in cpuinfo.Split('\n'))
        {
            if (line.Length == 0 && sawFlags) break; // end of the first processor's block
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim();
            if (key is not ("flags" or "vmx flags")) continue;
            sawFlags = true;
            flags.UnionWith(line[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        }
        return new CpuinfoFlags(flags.Contains("ept"), flags.Contains("npt"), flags.Contains("vpid"));
    }
}
