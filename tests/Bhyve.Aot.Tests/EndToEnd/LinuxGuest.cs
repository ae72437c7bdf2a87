using System.Globalization;
using System.Text;
using Bhyve.Aot.Tests.Support;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The project's Linux 6.12 guest kernel (../shared/linux beside the repository: vmlinux with the PVH note, built
/// to boot on kvm_pvm hosts; see its README) and how the end-to-end tests boot it: its command line, a busybox
/// initramfs carrying a test's /init, and time bounds scaled by the host's load.
/// </summary>
internal static class LinuxGuest
{
    /// <summary>The command line the kernel's README gives: what the host's instruction emulator cannot run is turned off.</summary>
    public const string Cmdline = "console=ttyS0 panic=-1 noxsave "
        + "clearcpuid=popcnt,rdrand,rdseed,avx,avx2,avx512f,fsgsbase,invpcid,pcid,smap,smep,pku,rdpid,erms,fsrm,movbe,bmi1,bmi2 nopti";

    /// <summary>
    /// What bhyve-aot hides from CPUID for this kernel on kvm_pvm: cx16, because the emulator cannot run `lock cmpxchg16b`
    /// (the kernel's README); and the TSC-deadline timer, as QEMU's kvm64 model does not offer it: this kernel's tick is
    /// periodic (HZ=250), which on a one-shot-only timer Linux re-arms in a catch-up loop (tick_handle_periodic) that
    /// re-runs the tick while the next one is already due. Every tick takes longer than 4 ms in the emulator under
    /// load, so with 2 vCPUs the boot sat in that loop for over 12 minutes at the clocksource switch (stop_machine);
    /// on the LAPIC's periodic mode it passed it in 5 s (measured side by side, load about 30).
    /// </summary>
    public const string CpuidHide = "cx16,tsc_deadline_timer";

    /// <summary>BHYVE_AOT_SHARED_LINUX, else ../shared/linux relative to the repository root.</summary>
    public static string Directory => Environment.GetEnvironmentVariable("BHYVE_AOT_SHARED_LINUX") is { Length: > 0 } env
        ? env
        : Path.GetFullPath(Path.Combine(Repo.Root, "..", "shared", "linux"));

    public static string Vmlinux => Path.Combine(Directory, "vmlinux");

    /// <summary>Why the kernel cannot be booted here, or null: only a missing folder (or kernel) is a reason.</summary>
    public static string? WhyAbsent() => File.Exists(Vmlinux)
        ? null
        : $"the shared Linux guest kernel is absent: {Vmlinux} not found (it lives in ../shared/linux beside the repository; BHYVE_AOT_SHARED_LINUX overrides)";

    /// <summary>
    /// How much slower than an idle host this one runs: the kernel's CPL0 code runs in KVM's emulator, which shares
    /// the CPUs with everything else, so the 1-minute load average per CPU scales the time a boot needs.
    /// </summary>
    public static double LoadFactor
    {
        get
        {
            try
            {
                double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
                return Math.Clamp(load / Environment.ProcessorCount, 1, 10);
            }
            catch (IOException) { return 1; }
        }
    }

    /// <summary>A bound for one boot that takes <paramref name="idleSeconds"/> on an idle host: doubled, then scaled by load.</summary>
    public static TimeSpan Bound(int idleSeconds) => TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("BHYVE_AOT_LINUX_SECONDS"), out int s) && s > 0 ? s : 2 * idleSeconds * LoadFactor);

    /// <summary>An initramfs: busybox (a static one from `make linux-image`) as /bin/busybox, the given /init, and any extra files.</summary>
    public static async Task<string> WriteInitramfs(string dir, string init, params (string Path, byte[] Data)[] extra)
    {
        var cpio = new CpioWriter().Directory("bin").Directory("proc").Directory("sys").Directory("dev").Directory("tmp")
            .File("init", Encoding.ASCII.GetBytes(init.Replace("\r", "") + "\n"), executable: true)
            .File("bin/busybox", await File.ReadAllBytesAsync(LinuxImage.File("busybox")), executable: true);
        foreach (var (path, data) in extra) cpio.File(path, data, executable: true);
        string initrd = Path.Combine(dir, "initrd.cpio");
        await File.WriteAllBytesAsync(initrd, cpio.ToArray());
        return initrd;
    }

    /// <summary>`bhyve-aot run` arguments for this kernel with the given initramfs, memory and vCPUs; devices follow.</summary>
    public static List<string> RunArgs(string initrd, int cpus, string memory = "128M") =>
        ["run", "--kernel", Vmlinux, "--initrd", initrd, "--memory", memory, "--cpus", cpus.ToString(CultureInfo.InvariantCulture),
         "--cpuid-hide", CpuidHide, "--cmdline", Cmdline];

    /// <summary>The value after "CHECK NAME " in the console output, or null.</summary>
    public static string? Check(IEnumerable<TimedLine> lines, string name)
    {
        string prefix = "CHECK " + name + " ";
        foreach (var l in lines)
        {
            int at = l.Text.IndexOf(prefix, StringComparison.Ordinal);
            if (at >= 0) return l.Text[(at + prefix.Length)..].Trim();
        }
        return null;
    }
}

/// <summary>A fact that needs the shared Linux guest kernel: skipped, saying why, only where ../shared/linux is absent.</summary>
internal sealed class SharedLinuxFactAttribute : Xunit.FactAttribute
{
    public SharedLinuxFactAttribute()
    {
        if (LinuxGuest.WhyAbsent() is { } why) Skip = why;
    }
}

/// <summary>
/// A fact of the longer Linux runs (`make test-linux-long`: more boots than `make test` can afford). Skipped with
/// that reason unless BHYVE_AOT_LINUX_LONG=1, and like <see cref="SharedLinuxFactAttribute"/> where the kernel is absent.
/// </summary>
internal sealed class LongLinuxFactAttribute : Xunit.FactAttribute
{
    public LongLinuxFactAttribute()
    {
        if (LinuxGuest.WhyAbsent() is { } why) Skip = why;
        else if (Environment.GetEnvironmentVariable("BHYVE_AOT_LINUX_LONG") != "1")
            Skip = "a longer Linux run: `make test-linux-long` runs it (BHYVE_AOT_LINUX_LONG=1)";
    }
}
