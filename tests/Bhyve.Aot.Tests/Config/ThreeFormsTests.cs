using Bhyve.Aot.Cli;
using Bhyve.Aot.Config;
using Bhyve.Aot.Tests.Cli;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>
/// The same machine written three ways (bhyve form, `run` options, machine file) is one VmConfig, and `config print`
/// prints the same file for all three.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ThreeFormsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-forms-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] BhyveForm =
    [
        "-c", "2", "-m", "512M", "-s", "0,hostbridge", "-s", "2,virtio-blk,disk.img,discard,ser=D1", "-s", "3,nvme,data.img,dsm=enable,sectsz=4096",
        "-s", "4,nvme,ram=64,maxq=2,qsz=128", "-l", "com1,stdio", "-b", "vmlinux", "-i", "initrd.img", "--cpuid-hide", "xsave,cx16", "-t", "console=ttyS0 root=/dev/vda", "myvm",
    ];

    private static readonly string[] RunForm =
    [
        "run", "--kernel", "vmlinux", "--initrd", "initrd.img", "--cpus", "2", "--memory", "512M", "--cmdline", "console=ttyS0 root=/dev/vda",
        "--disk", "path=disk.img,discard=unmap,serial=D1,slot=2", "--nvme", "path=data.img,dsm=enable,sector-size=4096,slot=3",
        "--nvme", "ram=64M,queues=2,queue-size=128,slot=4", "--name", "myvm", "--cpuid-hide", "xsave", "--cpuid-hide", "cx16",
    ];

    private const string FileForm =
        """
        {
          "name": "myvm",
          "boot-source": { "kernel_image_path": "vmlinux", "initrd_path": "initrd.img", "boot_args": "console=ttyS0 root=/dev/vda" },
          "machine-config": { "vcpu_count": 2, "mem_size_mib": 512, "cpuid_hide": [ "xsave", "cx16" ] },
          "drives": [ { "drive_id": "root", "path_on_host": "disk.img", "discard": "unmap", "serial": "D1", "pci_slot": 2 } ],
          "nvme": [
            { "path_on_host": "data.img", "dsm": "enable", "sector_size": 4096, "pci_slot": 3 },
            { "ram_size": "64M", "queues": 2, "queue_size": 128, "pci_slot": 4 }
          ]
        }
        """;

    [Fact]
    public void The_three_forms_build_the_same_VmConfig()
    {
        var fromBhyve = BhyveCommandLine.Parse(BhyveForm)!.Config;
        var fromFile = MachineFileReader.Parse(FileForm, "vm.json");
        var fromRun = Capture(RunForm);
        Assert.Equal(fromBhyve, fromFile);
        Assert.Equal(fromBhyve, fromRun);
        // And that machine is what was asked for, not three equally wrong ones.
        Assert.Equal("myvm", fromBhyve.Name);
        Assert.Equal(512UL << 20, fromBhyve.MemoryBytes);
        Assert.Equal([2], fromBhyve.Disks.Select(d => d.PciSlot!.Value));
        Assert.Equal([3, 4], fromBhyve.Nvme.Select(d => d.PciSlot!.Value));
        Assert.Equal(64UL << 20, fromBhyve.Nvme[1].RamBytes);
        Assert.Equal(["xsave", "cx16"], fromBhyve.CpuidHide.Select(f => f.Name));
    }

    [Fact]
    public void Config_print_prints_the_same_file_for_all_three()
    {
        // The file's relative paths resolve against its directory: the command-line forms name the same files there.
        string file = Path.Combine(_dir, "vm.json");
        File.WriteAllText(file, FileForm);
        string[] Under(string[] form) => [.. form.Select(a => a
            .Replace("disk.img", Path.Combine(_dir, "disk.img")).Replace("data.img", Path.Combine(_dir, "data.img"))
            .Replace("initrd.img", Path.Combine(_dir, "initrd.img")).Replace("vmlinux", Path.Combine(_dir, "vmlinux")))];
        var bhyve = CliCapture.Run(() => Program.Main(["config", "print", .. Under(BhyveForm)]));
        var run = CliCapture.Run(() => Program.Main(["config", "print", .. Under(RunForm)]));
        var config = CliCapture.Run(() => Program.Main(["config", "print", "run", "--config", file]));
        var shortForm = CliCapture.Run(() => Program.Main(["config", "print", "--config", file]));
        foreach (var r in new[] { bhyve, run, config, shortForm }) Assert.True(r.Code == 0 && r.Stderr == "", r.ToString());
        Assert.Equal(bhyve.Stdout, run.Stdout);
        // A machine file's relative paths are relative to its directory: the same machine, with those paths made absolute.
        string resolved = MachineFileWriter.Write(MachineFileReader.ResolveAgainst(BhyveCommandLine.Parse(BhyveForm)!.Config, _dir));
        Assert.Equal(resolved, config.Stdout.TrimEnd('\n'));
        Assert.Equal(resolved, shortForm.Stdout.TrimEnd('\n'));
        // The print is itself a machine file for the same machine.
        Assert.Equal(BhyveCommandLine.Parse(Under(BhyveForm))!.Config, MachineFileReader.Parse(bhyve.Stdout, "printed"));
    }

    [Fact]
    public void A_different_machine_prints_differently()
    {
        var a = CliCapture.Run(() => Program.Main(["config", "print", .. BhyveForm]));
        string[] changed = [.. BhyveForm[..^1], "othervm"];
        var b = CliCapture.Run(() => Program.Main(["config", "print", .. changed]));
        Assert.NotEqual(a.Stdout, b.Stdout);
        Assert.NotEqual(BhyveCommandLine.Parse(BhyveForm)!.Config, BhyveCommandLine.Parse(changed)!.Config);
    }

    /// <summary>What `run` would boot: the real `run` command, with an action that keeps the machine instead.</summary>
    private static VmConfig Capture(string[] runArgs)
    {
        VmConfig? seen = null;
        var r = CliCapture.Run(() => Program.Invoke(new System.CommandLine.RootCommand { RunCommand.Create((c, _) => { seen = c; return 0; }) }, runArgs));
        Assert.True(r.Code == 0 && seen is not null, r.ToString());
        return seen!;
    }
}
