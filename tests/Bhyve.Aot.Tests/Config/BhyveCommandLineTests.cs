using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>bhyve's command line: every option bhyve-aot reads, how getopt groups them, and every refusal by name.</summary>
public class BhyveCommandLineTests
{
    private static BhyveInvocation Parse(params string[] args) => BhyveCommandLine.Parse(args) ?? throw new InvalidOperationException("help");

    private static string Refusal(params string[] args) => Assert.Throws<ConfigException>(() => BhyveCommandLine.Parse(args)).Message;

    [Fact]
    public void The_issue_example_gives_the_whole_machine()
    {
        var i = Parse("-c", "2", "-m", "512M", "-s", "0,hostbridge", "-s", "2,virtio-blk,disk.img,discard", "-s", "3,nvme,data.img,dsm=enable",
            "-l", "com1,stdio", "-b", "vmlinux", "-t", "console=ttyS0", "myvm");
        var expected = new VmConfig
        {
            Name = "myvm",
            KernelPath = "vmlinux",
            Cmdline = "console=ttyS0",
            Cpus = 2,
            MemoryBytes = 512UL << 20,
            Disks = [new DiskConfig { Path = "disk.img", Discard = DiscardMode.Unmap, PciSlot = 2 }],
            Nvme = [new NvmeConfig { Path = "data.img", Dsm = DsmMode.Enable, PciSlot = 3 }],
        };
        Assert.Equal(expected, i.Config);
        Assert.False(i.Stats);
    }

    [Fact]
    public void Defaults_are_bhyves_one_CPU_and_256M_and_no_devices()
    {
        var c = Parse("-b", "k.elf", "vm").Config;
        Assert.Equal(new VmConfig { Name = "vm", KernelPath = "k.elf", MemoryBytes = 256UL << 20 }, c);
    }

    [Fact]
    public void Values_may_be_attached_and_switches_grouped_as_with_getopt()
    {
        var c = Parse("-AHPuwDY", "-c4", "-m1G", "-bk.elf", "-texit=1", "-s2,virtio-blk,a.img", "vm").Config;
        Assert.Equal(4, c.Cpus);
        Assert.Equal(1UL << 30, c.MemoryBytes);
        Assert.Equal("k.elf", c.KernelPath);
        Assert.Equal("exit=1", c.Cmdline);
        Assert.Equal(2, Assert.Single(c.Disks).PciSlot);
        // A value-taking letter at the end of a group takes the next word.
        Assert.Equal(3, Parse("-Hc", "3", "-b", "k", "vm").Config.Cpus);
    }

    [Theory]
    [InlineData("512", 512UL << 20)]     // bhyve: no suffix means MiB
    [InlineData("512M", 512UL << 20)]
    [InlineData("2g", 2UL << 30)]
    [InlineData("65536K", 64UL << 20)]
    public void Memory_sizes_read_as_bhyve_reads_them(string text, ulong bytes) =>
        Assert.Equal(bytes, Parse("-m", text, "-b", "k", "vm").Config.MemoryBytes);

    [Fact]
    public void Initrd_huge_pages_and_stats()
    {
        var i = Parse("-b", "bzImage", "-i", "initrd.img", "--huge-pages", "--stats", "vm");
        Assert.Equal("initrd.img", i.Config.InitrdPath);
        Assert.True(i.Config.HugePages);
        Assert.True(i.Stats);
    }

    [Fact]
    public void Cpuid_hide_is_read_as_run_reads_it()
    {
        var c = Parse("--cpuid-hide", "xsave,cx16", "--cpuid-hide=avx", "--cpuid-hide", "xsave", "-b", "k", "vm").Config;
        Assert.Equal(["xsave", "cx16", "avx"], c.CpuidHide.Select(f => f.Name));
    }

    [Fact]
    public void Devices_are_listed_by_slot_whatever_the_order_given()
    {
        var c = Parse("-s", "5,virtio-blk,b.img", "-s", "3,virtio-blk,a.img", "-s", "31,lpc", "-s", "0,hostbridge", "-b", "k", "vm").Config;
        Assert.Equal(["a.img", "b.img"], c.Disks.Select(d => d.Path));
        Assert.Equal([3, 5], c.Disks.Select(d => d.PciSlot!.Value));
    }

    [Fact]
    public void Help_is_null_and_says_which()
    {
        Assert.Null(BhyveCommandLine.Parse(["-s", "help"], out var slots));
        Assert.Equal(BhyveHelp.Slots, slots);
        Assert.Null(BhyveCommandLine.Parse(["-l", "help"], out var lpc));
        Assert.Equal(BhyveHelp.Lpc, lpc);
        Assert.Null(BhyveCommandLine.Parse(["-c", "2", "-h"]));
        Assert.Null(BhyveCommandLine.Parse(["-Ah"]));
        Assert.Null(BhyveCommandLine.Parse(["--help"]));
    }

    [Fact]
    public void Options_end_at_double_dash_and_the_name_may_then_start_with_a_dash_only_to_be_refused()
    {
        Assert.Contains("VM name '-x'", Refusal("-b", "k", "--", "-x"));
        Assert.Equal("vm", Parse("-b", "k", "--", "vm").Config.Name);
    }

    [Theory]
    [InlineData(new[] { "-b", "k" }, "no VM name")]
    [InlineData(new[] { "-s", "0,hostbridge", "vm" }, "no kernel")]
    [InlineData(new[] { "-b", "k", "vm", "-c", "2" }, "unexpected '-c' after the VM name 'vm'")]
    [InlineData(new[] { "-b", "k", "vm", "other" }, "unexpected 'other' after the VM name")]
    [InlineData(new[] { "-b", "k", "bad/name" }, "VM name 'bad/name'")]
    [InlineData(new[] { "-b", "k", "-c" }, "-c needs a value")]
    [InlineData(new[] { "-b", "k", "--frobnicate", "vm" }, "unknown option --frobnicate")]
    [InlineData(new[] { "-b", "k", "-q", "vm" }, "-q: unknown option")]
    [InlineData(new[] { "-b", "k", "--cpuid-hide", "frob", "vm" }, "--cpuid-hide: unknown CPU feature 'frob'")]
    [InlineData(new[] { "-b", "k", "--cpuid-hide" }, "--cpuid-hide needs a value")]
    [InlineData(new[] { "-b", "k", "-e", "vm" }, "-e: exiting on unhandled I/O port accesses is not supported")]
    [InlineData(new[] { "-b", "k", "-p", "0:1", "vm" }, "-p: pinning")]
    [InlineData(new[] { "-b", "k", "-G", "1234", "vm" }, "-G: the gdb debug server")]
    [InlineData(new[] { "-b", "k", "-f", "x", "vm" }, "-f: fw_cfg")]
    [InlineData(new[] { "-b", "k", "-r", "file", "vm" }, "-r: resuming")]
    [InlineData(new[] { "-b", "k", "-m", "lots", "vm" }, "-m lots: not a size")]
    [InlineData(new[] { "-b", "k", "-m", "1M", "vm" }, "-m 1M: memory must be at least 4 MiB")]
    [InlineData(new[] { "-b", "k", "-m", "99999999999999999999", "vm" }, "-m 99999999999999999999: not a size")]
    [InlineData(new[] { "-b", "k", "-l", "com1,/dev/nmdm0A", "vm" }, "-l com1,/dev/nmdm0A: COM1 can only be wired to stdio")]
    [InlineData(new[] { "-b", "k", "-l", "com2,stdio", "vm" }, "-l com2,stdio: only COM1 is emulated")]
    [InlineData(new[] { "-b", "k", "-l", "bootrom,/usr/share/uefi.fd", "vm" }, "there is no boot ROM")]
    [InlineData(new[] { "-b", "k", "-l", "tpm,swtpm,/s", "vm" }, "-l tpm,swtpm,/s: not supported")]
    [InlineData(new[] { "-b", "k", "-t", "a\0b", "vm" }, "--cmdline contains a NUL")]
    [InlineData(new[] { "-b", "k", "-o", "a=b", "vm" }, "-o a: unknown configuration variable 'a'")]
    [InlineData(new[] { "-b", "k", "-o", "novalue", "vm" }, "-o novalue: expected name=value")]
    [InlineData(new[] { "-b", "k", "-o", "pci.1.2.0.path=a.img", "vm" }, "PCI bus 1 does not exist")]
    [InlineData(new[] { "-b", "k", "-o", "pci.0.2.0.path=a.img", "vm" }, "pci.0.2.0: no device set")]
    [InlineData(new[] { "-b", "k", "-o", "memory.size=lots", "vm" }, "-o memory.size=lots: not a size")]
    [InlineData(new[] { "-b", "k", "-o", "x86.strictio=true", "vm" }, "-o x86.strictio: exiting on unhandled I/O port accesses is not supported")]
    [InlineData(new[] { "-b", "k", "-o", "acpi_tables=maybe", "vm" }, "-o acpi_tables=maybe: expected true or false")]
    [InlineData(new[] { "-b", "k", "-o", "lpc.bootrom=/x.fd", "vm" }, "there is no boot ROM")]
    [InlineData(new[] { "-b", "k", "-o", "name=%(nothing)", }, "%(nothing) names a variable that is not set")]
    public void Refusals_name_the_option(string[] args, string message) => Assert.Contains(message, Refusal(args));

    [Fact]
    public void Console_option_is_accepted_in_its_one_form()
    {
        Assert.Equal(Parse("-b", "k", "vm").Config, Parse("-l", "com1,stdio", "-b", "k", "vm").Config);
        Assert.Equal(Parse("-b", "k", "vm").Config, Parse("-l", "COM1,stdio", "-b", "k", "vm").Config);
    }

    [Theory]
    [InlineData("-s", "0,hostbridge", "-s", "0,hostbridge", "-s 0,hostbridge is given twice")]
    [InlineData("-s", "3,virtio-blk,a.img", "-s", "3,nvme,b.img", "-s 3,nvme,b.img: PCI slot 3 is already taken")]
    [InlineData("-s", "31,lpc", "-s", "31,virtio-blk,a.img", "-s 31,virtio-blk,a.img: PCI slot 31 is already taken")]
    [InlineData("-s", "0,hostbridge", "-s", "0:0,amd_hostbridge", "given twice")]
    public void A_slot_is_given_once(string s1, string v1, string s2, string v2, string message) =>
        Assert.Contains(message, Refusal(s1, v1, s2, v2, "-b", "k", "vm"));

    [Fact]
    public void O_sets_the_variables_the_options_set_and_a_later_value_wins()
    {
        var byOptions = Parse("-c", "2", "-m", "512M", "-s", "2,virtio-blk,a.img,ro", "-b", "k", "-i", "i.img", "-t", "x=1", "vm").Config;
        var byVariables = Parse("-o", "cpus=2", "-o", "memory.size=512M", "-o", "pci.0.2.0.device=virtio-blk", "-o", "pci.0.2.0.path=a.img",
            "-o", "pci.0.2.0.ro=true", "-o", "kernel=k", "-o", "initrd=i.img", "-o", "cmdline=x=1", "-o", "name=vm").Config;
        Assert.Equal(byOptions, byVariables);
        Assert.Equal(1UL << 30, Parse("-m", "512M", "-o", "memory.size=1G", "-b", "k", "vm").Config.MemoryBytes);
        // A variable laid over a -s device changes that device.
        Assert.True(Parse("-s", "2,virtio-blk,a.img", "-o", "pci.0.2.0.ro=true", "-b", "k", "vm").Config.Disks[0].ReadOnly);
    }

    [Fact]
    public void K_reads_a_bhyve_config_file_and_references_expand()
    {
        string file = Path.Combine(Path.GetTempPath(), $"bhyve-aot-k-{Environment.ProcessId}.conf");
        File.WriteAllText(file, "# a bhyve_config(5) file\nname=vm0\ncpus=2\nmemory.size=128M\n\nimages=/images\npci.0.3.0.device=nvme\npci.0.3.0.path=%(images)/%(name).img\nkernel=k\n");
        try
        {
            var c = Parse("-k", file).Config;
            Assert.Equal("vm0", c.Name);
            Assert.Equal(2, c.Cpus);
            Assert.Equal(128UL << 20, c.MemoryBytes);
            Assert.Equal("/images/vm0.img", Assert.Single(c.Nvme).Path);
            Assert.Equal(3, c.Nvme[0].PciSlot);
            // The command line's VM name replaces the file's, as bhyve's operand does.
            Assert.Equal("other", Parse("-k", file, "other").Config.Name);
            File.WriteAllText(file, "cpus = 2\n");
            Assert.Contains("line 1: expected name=value", Refusal("-k", file, "vm"));
        }
        finally { File.Delete(file); }
        Assert.Contains("-k /nonexistent/vm.conf: the directory /nonexistent does not exist", Refusal("-k", "/nonexistent/vm.conf", "vm"));
        Assert.Contains("-k /dev/null: is not a regular file (a character device)", Refusal("-k", "/dev/null", "vm"));
    }
}
