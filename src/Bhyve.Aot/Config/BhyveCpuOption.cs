using System.Globalization;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Config;

/// <summary>
/// bhyve's `-c [[cpus=]N][,sockets=S][,cores=C][,threads=T]`. The topology is not passed to the guest yet (CPUID
/// describes one package of N single-threaded cores), so one is accepted only when it multiplies out to the CPU count.
/// </summary>
public static class BhyveCpuOption
{
    public static int Parse(string text)
    {
        int? cpus = null;
        int sockets = 1, cores = 1, threads = 1;
        bool topology = false;
        var o = new DeviceOptions("-c", text);
        while (o.MoveNext())
        {
            switch (o.Key)
            {
                case "cpus": cpus = o.Number(1, VmConfig.MaxCpus); break;
                case "sockets": sockets = o.Number(1, VmConfig.MaxCpus); topology = true; break;
                case "cores": cores = o.Number(1, VmConfig.MaxCpus); topology = true; break;
                case "threads": threads = o.Number(1, VmConfig.MaxCpus); topology = true; break;
                case var _ when o.IsBareFirst:
                    if (!int.TryParse(o.Part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > VmConfig.MaxCpus)
                        throw new ConfigException($"-c {text}: '{o.Part}' is not a CPU count (1..{VmConfig.MaxCpus})");
                    cpus = n;
                    break;
                default: throw o.Unknown("cpus, sockets, cores, threads");
            }
        }
        long product = (long)sockets * cores * threads;
        if (cpus is null)
        {
            if (!topology) throw new ConfigException("-c: no CPU count given");
            if (product > VmConfig.MaxCpus) throw new ConfigException($"-c {text}: {product} CPUs is out of range (1..{VmConfig.MaxCpus})");
            return (int)product;
        }
        if (topology && product != cpus)
            throw new ConfigException(
                $"-c {text}: {sockets} socket(s) x {cores} core(s) x {threads} thread(s) is {product} CPUs, not {cpus} "
                + "(bhyve-aot needs them equal; the topology is not shown to the guest yet)");
        return cpus.Value;
    }
}
