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
            "-l", "com1,stdio", "-k", "vmlinux", "-C", "console=ttyS0", "myvm");
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
    public void Defaults_are_one_CPU_and_64M_and_no_devices()
    {
        var c = Parse("-k", "k.elf", "vm").Config;
        Assert.Equal(new VmConfig { Name = "vm", KernelPath = "k.elf" }, c);
    }

    [Fact]
    public void Values_may_be_attached_and_switches_grouped_as_with_getopt()
    {
        var c = Parse("-AHPuwDY", "-c4", "-m1G", "-kk.elf", "-Cexit=1", "-s2,virtio-blk,a.img", "vm").Config;
        Assert.Equal(4, c.Cpus);
        Assert.Equal(1UL << 30, c.MemoryBytes);
        Assert.Equal("k.elf", c.KernelPath);
        Assert.Equal("exit=1", c.Cmdline);
        Assert.Equal(2, Assert.Single(c.Disks).PciSlot);
        // A value-taking letter at the end of a group takes the next word.
        Assert.Equal(3, Parse("-Hc", "3", "-k", "k", "vm").Config.Cpus);
    }

    [Theory]
    [InlineData("512", 512UL << 20)]     // bhyve: no suffix means MiB
    [InlineData("512M", 512UL << 20)]
    [InlineData("2g", 2UL << 30)]
    [InlineData("65536K", 64UL << 20)]
    public void Memory_sizes_read_as_bhyve_reads_them(string text, ulong bytes) =>
        Assert.Equal(bytes, Parse("-m", text, "-k", "k", "vm").Config.MemoryBytes);

    [Fact]
    public void Initrd_huge_pages_and_stats()
    {
        var i = Parse("-k", "bzImage", "-i", "initrd.img", "--huge-pages", "--stats", "vm");
        Assert.Equal("initrd.img", i.Config.InitrdPath);
        Assert.True(i.Config.HugePages);
        Assert.True(i.Stats);
    }

    [Fact]
    public void Cpuid_hide_is_read_as_run_reads_it()
    {
        var c = Parse("--cpuid-hide", "xsave,cx16", "--cpuid-hide=avx", "--cpuid-hide", "xsave", "-k", "k", "vm").Config;
        Assert.Equal(["xsave", "cx16", "avx"], c.CpuidHide.Select(f => f.Name));
    }

    [Fact]
    public void Devices_are_listed_by_slot_whatever_the_order_given()
    {
        var c = Parse("-s", "5,virtio-blk,b.img", "-s", "3,virtio-blk,a.img", "-s", "31,lpc", "-s", "0,hostbridge", "-k", "k", "vm").Config;
        Assert.Equal(["a.img", "b.img"], c.Disks.Select(d => d.Path));
        Assert.Equal([3, 5], c.Disks.Select(d => d.PciSlot!.Value));
    }

    [Fact]
    public void Help_is_null()
    {
        Assert.Null(BhyveCommandLine.Parse(["-c", "2", "-h"]));
        Assert.Null(BhyveCommandLine.Parse(["-Ah"]));
        Assert.Null(BhyveCommandLine.Parse(["--help"]));
    }

    [Fact]
    public void Options_end_at_double_dash_and_the_name_may_then_start_with_a_dash_only_to_be_refused()
    {
        Assert.Contains("VM name '-x'", Refusal("-k", "k", "--", "-x"));
        Assert.Equal("vm", Parse("-k", "k", "--", "vm").Config.Name);
    }

    [Theory]
    [InlineData(new[] { "-k", "k" }, "no VM name")]
    [InlineData(new[] { "-s", "0,hostbridge", "vm" }, "no kernel")]
    [InlineData(new[] { "-k", "k", "vm", "-c", "2" }, "unexpected '-c' after the VM name 'vm'")]
    [InlineData(new[] { "-k", "k", "vm", "other" }, "unexpected 'other' after the VM name")]
    [InlineData(new[] { "-k", "k", "bad/name" }, "VM name 'bad/name'")]
    [InlineData(new[] { "-k", "k", "-c" }, "-c needs a value")]
    [InlineData(new[] { "-k", "k", "--frobnicate", "vm" }, "unknown option --frobnicate")]
    [InlineData(new[] { "-k", "k", "-q", "vm" }, "-q: unknown option")]
    [InlineData(new[] { "-k", "k", "--cpuid-hide", "frob", "vm" }, "--cpuid-hide: unknown CPU feature 'frob'")]
    [InlineData(new[] { "-k", "k", "--cpuid-hide" }, "--cpuid-hide needs a value")]
    [InlineData(new[] { "-k", "k", "-e", "vm" }, "-e: exiting on unhandled I/O port accesses is not supported")]
    [InlineData(new[] { "-k", "k", "-x", "vm" }, "-x: x2APIC")]
    [InlineData(new[] { "-k", "k", "-a", "vm" }, "-a: xAPIC")]
    [InlineData(new[] { "-k", "k", "-S", "vm" }, "-S: wiring guest memory")]
    [InlineData(new[] { "-k", "k", "-W", "vm" }, "-W:")]
    [InlineData(new[] { "-k", "k", "-p", "0:1", "vm" }, "-p: pinning")]
    [InlineData(new[] { "-k", "k", "-G", "1234", "vm" }, "-G: the gdb stub")]
    [InlineData(new[] { "-k", "k", "-U", "uuid", "vm" }, "-U:")]
    [InlineData(new[] { "-k", "k", "-o", "a=b", "vm" }, "-o: bhyve configuration variables")]
    [InlineData(new[] { "-k", "k", "-f", "x", "vm" }, "-f: fw_cfg")]
    [InlineData(new[] { "-k", "k", "-K", "us", "vm" }, "-K:")]
    [InlineData(new[] { "-k", "k", "-r", "file", "vm" }, "-r: restoring")]
    [InlineData(new[] { "-k", "k", "-AHx", "vm" }, "-x:")]
    [InlineData(new[] { "-k", "k", "-m", "lots", "vm" }, "-m lots: not a size")]
    [InlineData(new[] { "-k", "k", "-m", "1M", "vm" }, "-m 1M: memory must be at least 4 MiB")]
    [InlineData(new[] { "-k", "k", "-m", "99999999999999999999", "vm" }, "-m 99999999999999999999: not a size")]
    [InlineData(new[] { "-k", "k", "-l", "com1,/dev/nmdm0A", "vm" }, "-l com1,/dev/nmdm0A: COM1 can only be wired to stdio")]
    [InlineData(new[] { "-k", "k", "-l", "com2,stdio", "vm" }, "-l com2,stdio: only COM1 is emulated")]
    [InlineData(new[] { "-k", "k", "-l", "bootrom,/usr/share/uefi.fd", "vm" }, "there is no boot ROM")]
    [InlineData(new[] { "-k", "k", "-l", "tpm,swtpm,/s", "vm" }, "-l tpm,swtpm,/s: not supported")]
    [InlineData(new[] { "-k", "k", "-C", "a\0b", "vm" }, "--cmdline contains a NUL")]
    public void Refusals_name_the_option(string[] args, string message) => Assert.Contains(message, Refusal(args));

    [Fact]
    public void Console_option_is_accepted_in_its_one_form()
    {
        Assert.Equal(Parse("-k", "k", "vm").Config, Parse("-l", "com1,stdio", "-k", "k", "vm").Config);
        Assert.Equal(Parse("-k", "k", "vm").Config, Parse("-l", "COM1,stdio", "-k", "k", "vm").Config);
    }

    [Theory]
    [InlineData("-s", "0,hostbridge", "-s", "0,hostbridge", "-s 0,hostbridge is given twice")]
    [InlineData("-s", "3,virtio-blk,a.img", "-s", "3,nvme,b.img", "-s 3: PCI slot 3 is already taken by virtio-blk a.img")]
    [InlineData("-s", "31,lpc", "-s", "31,virtio-blk,a.img", "-s 31: PCI slot 31 is already taken by lpc")]
    [InlineData("-s", "0,hostbridge", "-s", "0:0,amd_hostbridge", "given twice")]
    public void A_slot_is_given_once(string s1, string v1, string s2, string v2, string message) =>
        Assert.Contains(message, Refusal(s1, v1, s2, v2, "-k", "k", "vm"));
}
