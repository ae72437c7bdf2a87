using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>
/// bhyve(8)'s options, one row each, as bhyve(8) and bhyve_config(5) define them: accepted (and harmless: the machine
/// is the same as without it), mapped to what it sets here, or refused with a reason. The README's table says the same.
/// </summary>
public class BhyveCompatibilityTests
{
    private static readonly string[] Tail = ["-b", "k", "vm"];
    private static VmConfig Baseline => BhyveCommandLine.Parse(Tail)!.Config;

    public static TheoryData<string, string[], string> Options => new()
    {
        // Switches bhyve documents that change nothing here.
        { "-a (xAPIC, the default)", ["-a"], "same" },
        { "-A (ACPI tables: always built)", ["-A"], "same" },
        { "-C (guest memory in core files)", ["-C"], "same" },
        { "-D (destroy on power-off: there is no VM left behind)", ["-D"], "same" },
        { "-H (yield on HLT: KVM's)", ["-H"], "same" },
        { "-P (exit on PAUSE: KVM's)", ["-P"], "same" },
        { "-S (wire guest memory)", ["-S"], "same" },
        { "-u (RTC in UTC: no RTC)", ["-u"], "same" },
        { "-W (MSI, not MSI-X)", ["-W"], "same" },
        { "-w (ignore unknown MSRs: KVM's)", ["-w"], "same" },
        { "-x (x2APIC: the guest switches itself)", ["-x"], "same" },
        { "-Y (no MP table: none is built)", ["-Y"], "same" },
        { "-U uuid (no SMBIOS)", ["-U", "8a1b2c3d-0000-0000-0000-000000000000"], "same" },
        { "-K layout (no keyboard)", ["-K", "us_unix"], "same" },
        { "grouped -AHPuwDY", ["-AHPuwDY"], "same" },
        // Options that set something.
        { "-c N", ["-c", "2"], "cpus=2" },
        { "-c topology", ["-c", "cpus=4,sockets=2,cores=2"], "cpus=4" },
        { "-c from the topology alone", ["-c", "sockets=2,cores=3"], "cpus=6" },
        { "-m plain number is MiB", ["-m", "512"], "memory=512M" },
        { "-m suffix", ["-m", "2g"], "memory=2048M" },
        { "-m default 256M", [], "memory=256M" },
        { "-o memory.size", ["-o", "memory.size=1G"], "memory=1024M" },
        { "-o cpus", ["-o", "cpus=3"], "cpus=3" },
        { "-o sockets/cores/threads", ["-o", "sockets=2", "-o", "threads=2"], "cpus=4" },
        { "-s hostbridge at 0", ["-s", "0,hostbridge"], "same" },
        { "-s amd_hostbridge at 0", ["-s", "0:0,amd_hostbridge"], "same" },
        { "-s lpc", ["-s", "31,lpc"], "same" },
        { "-s virtio-blk", ["-s", "2,virtio-blk,a.img"], "disk@2" },
        { "-s bus:slot:function", ["-s", "0:4:0,virtio-blk,a.img"], "disk@4" },
        { "-o pci.0.N.0.*", ["-o", "pci.0.5.0.device=virtio-blk", "-o", "pci.0.5.0.path=a.img"], "disk@5" },
        { "-s nvme", ["-s", "3,nvme,a.img,maxq=2,qsz=64"], "nvme@3" },
        { "-s nvme ram=MiB", ["-s", "3,nvme,ram=64"], "nvme@3" },
        { "-l com1,stdio", ["-l", "com1,stdio"], "same" },
        { "-o lpc.com1.path=stdio", ["-o", "lpc.com1.path=stdio"], "same" },
        { "-o harmless booleans", ["-o", "acpi_tables=true", "-o", "x86.vmexit_on_hlt=yes", "-o", "destroy_on_poweroff=on", "-o", "virtio_msix=false"], "same" },
        { "-o SMBIOS strings", ["-o", "bios.vendor=x", "-o", "system.serial_number=1"], "same" },
        { "-o name (the VMNAME operand wins, as in bhyve)", ["-o", "name=other"], "name=vm" },
        // Refused, with the reason.
        { "-e", ["-e"], "refused:exiting on unhandled I/O port accesses is not supported" },
        { "-f", ["-f", "opt/x,string=y"], "refused:fw_cfg is not supported" },
        { "-G", ["-G", "1234"], "refused:the gdb debug server is not supported" },
        { "-n", ["-n", "0,1G,0"], "refused:NUMA domains are not supported" },
        { "-p", ["-p", "0:1"], "refused:pinning vCPUs to host CPUs is not supported" },
        { "-r", ["-r", "snap"], "refused:resuming from a snapshot is not supported" },
        { "-s virtio-net", ["-s", "2,virtio-net,tap0"], "refused:bhyve-aot does not emulate virtio-net" },
        { "-s function 1", ["-s", "2:1,virtio-blk,a.img"], "refused:PCI function 1 is not supported" },
        { "-s bus 1", ["-s", "1:2:0,virtio-blk,a.img"], "refused:PCI bus 1 does not exist" },
        { "-s virtio-blk sync", ["-s", "2,virtio-blk,a.img,sync"], "refused:sync (O_SYNC writes) is not supported" },
        { "-s nvme eui64", ["-s", "2,nvme,a.img,eui64=1"], "refused:eui64 is not supported" },
        { "-l com2", ["-l", "com2,stdio"], "refused:only COM1 is emulated" },
        { "-l bootrom", ["-l", "bootrom,/x.fd"], "refused:there is no boot ROM" },
        { "-o x86.strictio", ["-o", "x86.strictio=true"], "refused:exiting on unhandled I/O port accesses is not supported" },
        { "-o gdb.port", ["-o", "gdb.port=1234"], "refused:the gdb debug server is not supported" },
        { "-o unknown", ["-o", "memory.szie=1G"], "refused:unknown configuration variable 'memory.szie'" },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void Each_bhyve_option_is_accepted_mapped_or_refused_with_a_reason(string option, string[] args, string outcome)
    {
        string[] all = [.. args, .. Tail];
        if (outcome.StartsWith("refused:", StringComparison.Ordinal))
        {
            var e = Assert.Throws<ConfigException>(() => BhyveCommandLine.Parse(all));
            Assert.True(e.Message.Contains(outcome["refused:".Length..]), $"{option}: {e.Message}");
            return;
        }
        var config = BhyveCommandLine.Parse(all)!.Config;
        switch (outcome.Split('=', '@')[0])
        {
            case "same": Assert.Equal(Baseline, config); break;
            case "cpus": Assert.Equal(int.Parse(outcome[5..]), config.Cpus); break;
            case "memory": Assert.Equal(ulong.Parse(outcome[7..^1]) << 20, config.MemoryBytes); break;
            case "name": Assert.Equal(outcome[5..], config.Name); break;
            case "disk": Assert.Equal(int.Parse(outcome[5..]), Assert.Single(config.Disks).PciSlot); break;
            case "nvme": Assert.Equal(int.Parse(outcome[5..]), Assert.Single(config.Nvme).PciSlot); break;
            default: Assert.Fail($"unknown outcome {outcome}"); break;
        }
    }

    [Theory]
    [InlineData("-s")]
    [InlineData("-l")]
    public void Help_lists_what_is_emulated(string option)
    {
        Assert.Null(BhyveCommandLine.Parse([option, "help"], out var help));
        Assert.Contains(option == "-s" ? "virtio-blk" : "com1", BhyveCommandLine.HelpText(help).Split('\n'));
    }

    [Theory]
    [InlineData(ExitCodes.Reset, 0)]        // bhyve: 0 rebooted
    [InlineData(ExitCodes.PoweredOff, 1)]   // 1 powered off
    [InlineData(ExitCodes.TripleFault, 3)]  // 3 triple fault
    [InlineData(ExitCodes.Usage, 4)]        // 4 exited due to an error
    [InlineData(ExitCodes.KvmError, 4)]
    [InlineData(ExitCodes.HostUnsupported, 4)]
    [InlineData(ExitCodes.VmmFailure, 4)]
    [InlineData(ExitCodes.ConsoleQuit, 4)]
    [InlineData(7, 7)]                      // the guest's own debug-exit status passes through
    [InlineData(1, 1)]
    public void Exit_statuses_are_bhyves_in_the_bhyve_form(int ours, int bhyve) => Assert.Equal(bhyve, ExitCodes.ToBhyve(ours));
}
