namespace Bhyve.Aot.Kvm;

/// <summary>
/// How the vCPUs are arranged for the guest: packages (sockets) of cores of threads. The APIC ID of a vCPU is its
/// index, so the ID splits into fields as the CPUID topology leaves describe it: thread bits, then core bits, then
/// the package. A level below the top one must therefore be a power of two, or the fields would not line up with
/// consecutive IDs (<see cref="Problem"/>).
/// </summary>
public readonly record struct CpuTopology(int Sockets, int Cores, int Threads)
{
    /// <summary>What `--cpus N` means: one package of N single-threaded cores (as real CPUs of that size are).</summary>
    public static CpuTopology OnePackage(int cpus) => new(1, cpus, 1);

    public int Cpus => Sockets * Cores * Threads;

    /// <summary>Logical processors in one package.</summary>
    public int PerPackage => Cores * Threads;

    /// <summary>APIC ID bits that number the threads of a core.</summary>
    public int ThreadBits => CeilLog2(Threads);

    /// <summary>APIC ID bits that number the cores of a package.</summary>
    public int CoreBits => CeilLog2(Cores);

    /// <summary>Where the package number starts in the APIC ID.</summary>
    public int PackageShift => ThreadBits + CoreBits;

    /// <summary>Why this arrangement cannot be described with APIC ID = vCPU index, or null when it can.</summary>
    public string? Problem()
    {
        if (Sockets < 1 || Cores < 1 || Threads < 1) return "sockets, cores and threads must each be at least 1";
        if (Threads > 1 && (Cores > 1 || Sockets > 1) && !IsPowerOfTwo(Threads))
            return $"{Threads} threads per core: with more than one core the thread count must be a power of two (APIC IDs are the vCPU index)";
        if (Cores > 1 && Sockets > 1 && !IsPowerOfTwo(Cores))
            return $"{Cores} cores per socket: with more than one socket the core count must be a power of two (APIC IDs are the vCPU index)";
        return null;
    }

    public static int CeilLog2(int n) => n <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(n - 1));

    private static bool IsPowerOfTwo(int n) => (n & (n - 1)) == 0;
}
