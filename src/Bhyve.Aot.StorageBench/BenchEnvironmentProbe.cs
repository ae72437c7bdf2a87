using System.Reflection;
using System.Runtime.InteropServices;
using Bhyve.Aot.Host;

namespace Bhyve.Aot.StorageBench;

/// <summary>Gathers the environment the numbers belong to: CPU, kernel, KVM flavour and TSC (via `check`'s probe), the
/// backing file's file system, and the versions of bhyve-aot, .NET, QEMU and fio.</summary>
public static class BenchEnvironmentProbe
{
    public static BenchEnvironment Probe(HostReport host, BackingFile file, string? qemu, string? fio)
    {
        string kernel = HostFileSystem.Live.ReadValue("/proc/sys/kernel/osrelease") ?? "unknown";
        string fs = MountTable.Describe(HostFileSystem.Live.ReadText("/proc/self/mounts") ?? "", Path.GetFullPath(file.Path)) ?? "unknown";
        string flavour = host.KvmModule.Flavour switch
        {
            KvmFlavour.Intel => "kvm_intel", KvmFlavour.Amd => "kvm_amd", KvmFlavour.Pvm => "kvm_pvm", _ => "none",
        };
        return new BenchEnvironment(host.Cpu.Brand.Trim(), Environment.ProcessorCount, kernel, flavour, host.KvmModule.Description,
            host.SmokeTest.TscKhz ?? 0, file.Path, file.Size, fs, Version(), RuntimeInformation.FrameworkDescription,
            qemu is null ? null : FirstLine(qemu, "--version"), fio is null ? null : FirstLine(fio, "--version"), host.IoUring.BlockEngine);
    }

    /// <summary>bhyve-aot's informational version (with the commit when the build recorded one).</summary>
    public static string Version() =>
        typeof(BenchEnvironmentProbe).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private static string? FirstLine(string program, string arg)
    {
        try
        {
            var r = ChildProcess.Run(program, [arg], TimeSpan.FromSeconds(10));
            return r.ExitCode == 0 ? r.Stdout.Split('\n')[0].Trim() : null;
        }
        catch (BenchException) { return null; }
    }
}
