using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>The JSON machine file: what each field sets, the Firecracker shapes it accepts, and each refusal.</summary>
public class MachineFileTests
{
    private static VmConfig Parse(string json) => MachineFileReader.Parse(json, "vm.json");

    private static string Refusal(string json) => Assert.Throws<ConfigException>(() => Parse(json)).Message;

    private const string Minimal = """{ "boot-source": { "kernel_image_path": "k.elf" } }""";

    [Fact]
    public void Minimal_file_gives_the_defaults() => Assert.Equal(new VmConfig { KernelPath = "k.elf" }, Parse(Minimal));

    [Fact]
    public void Every_field_is_read()
    {
        var c = Parse("""
            {
              // comments and trailing commas are allowed
              "name": "full",
              "boot-source": { "kernel_image_path": "vmlinux", "boot_args": "console=ttyS0", "initrd_path": "initrd.img" },
              "machine-config": { "vcpu_count": 4, "mem_size_mib": 1024, "huge_pages": "2M", "cpuid_hide": [ "avx", "xsave" ] },
              "drives": [
                { "drive_id": "rootfs", "path_on_host": "a.img", "is_root_device": false, "is_read_only": true, "discard": "ignore",
                  "direct": true, "queues": 2, "queue_size": 128, "serial": "S1", "pci_slot": 7 },
                { "drive_id": "scratch", "path_on_host": "b.img", "create_size": "1G" },
              ],
              "nvme": [
                { "path_on_host": "n.img", "dsm": "enable", "queues": 4, "queue_size": 64, "sector_size": 4096, "serial": "N1", "direct": true, "is_read_only": true },
                { "ram_size": "64M", "pci_slot": 9 },
              ],
              "hvt": {
                "block_devices": [ { "name": "storage", "path_on_host": "s.img" } ],
                "net_devices": [ { "name": "service", "host_dev_name": "tap0" } ],
                "args": [ "--ipv4=10.0.0.2/24" ],
              },
            }
            """);
        var expected = new VmConfig
        {
            Name = "full",
            CpuidHide = Bhyve.Aot.Kvm.CpuidFeature.ParseList("avx,xsave", out _),
            KernelPath = "vmlinux",
            Cmdline = "console=ttyS0",
            InitrdPath = "initrd.img",
            Cpus = 4,
            MemoryBytes = 1UL << 30,
            HugePages = true,
            Disks =
            [
                new DiskConfig { Path = "a.img", ReadOnly = true, Discard = DiscardMode.Ignore, Direct = true, Queues = 2, QueueSize = 128, Serial = "S1", PciSlot = 7 },
                new DiskConfig { Path = "b.img", Create = true, CreateSize = 1UL << 30 },
            ],
            Nvme =
            [
                new NvmeConfig { Path = "n.img", Dsm = DsmMode.Enable, Queues = 4, QueueSize = 64, SectorSize = 4096, Serial = "N1", Direct = true, ReadOnly = true },
                new NvmeConfig { RamBytes = 64UL << 20, PciSlot = 9 },
            ],
            HvtBlocks = [new HvtDeviceConfig("storage", "s.img")],
            HvtNets = [new HvtDeviceConfig("service", "tap0")],
            GuestArgs = ["--ipv4=10.0.0.2/24"],
        };
        Assert.Equal(expected, c);
    }

    [Fact]
    public void Memory_may_be_given_with_a_suffix()
    {
        Assert.Equal(2UL << 30, Parse("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size": "2G" } }""").MemoryBytes);
        Assert.Equal((64UL << 20) + 4096, Parse("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size": "65540K" } }""").MemoryBytes);
    }

    [Theory]
    [InlineData("{", "vm.json:1:2: the file ends inside the JSON")]
    [InlineData("{ \"boot-source\": { \"kernel_image_path\": \"k\" },\n \"name\": }", "vm.json:2:10: not valid JSON at '}'")]
    [InlineData("[]", "vm.json:1:1: the top level must be an object")]
    [InlineData("null", "vm.json:1:1: the top level must be an object")]
    [InlineData("{}", "vm.json: boot-source is missing")]
    [InlineData("""{ "boot-source": {} }""", "vm.json:1:3: boot-source.kernel_image_path is missing")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k", "kernel": "x" } }""", "vm.json:1:46: boot-source.kernel: unknown field (the fields of boot-source are kernel_image_path, boot_args, initrd_path)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": 5 } }""", "vm.json:1:41: boot-source.kernel_image_path: expected a string, not a number")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "network-interfaces": [ { "iface_id": "eth0" } ] }""", "network-interfaces: virtio-net is not built yet")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "vsock": { "guest_cid": 3 } }""", "vsock: virtio-vsock is not built yet")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "io_engine": "Fast" } ] }""", "drives[0].io_engine \"Fast\"")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "rate_limiter": {} } ] }""", "drives[0].rate_limiter: rate limiting is not built yet")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "is_root_device": true }, { "path_on_host": "b", "is_root_device": true } ] }""", "drives[1]: a root block device already exists")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "partuuid": "x" } ] }""", "drives[0].partuuid: only meaningful with is_root_device")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "cpu_template": "C3" } }""", "machine-config.cpu_template \"C3\"")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "smt": "no" } }""", "machine-config.smt: expected true or false")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "vcpu_count": "two" } }""", "machine-config.vcpu_count: expected a whole number")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "vcpu_count": 1.5 } }""", "vcpu_count: expected a whole number")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "is_read_only": "yes" } ] }""", "drives[0].is_read_only: expected true or false")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": {} }""", "drives: expected a list of objects")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "hvt": { "args": [ 1 ] } }""", "hvt.args[0]: expected a string (as hvt.args is a list of strings), not a number")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k", "kernel_image_path": "j" } }""", "vm.json:1:46: boot-source.kernel_image_path: the field is given twice (lines 1 and 1)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "vcpu_count": 0 } }""", "vm.json:1:68: machine-config.vcpu_count 0 is out of range (1..64)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size_mib": 1 } }""", "memory must be at least 4 MiB")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size_mib": 18446744073709551615 } }""", "mem_size_mib 18446744073709551615 is out of range")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size_mib": 64, "mem_size": "64M" } }""", "not both")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "mem_size": "lots" } }""", "machine-config.mem_size \"lots\" is not a size")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "huge_pages": "1G" } }""", "huge_pages \"1G\": expected \"None\", \"Transparent\" or \"2M\"")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "cpuid_hide": [ "frob" ] } }""", "machine-config.cpuid_hide: unknown CPU feature 'frob'")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "cpuid_hide": [ "avx,xsave" ] } }""", "machine-config.cpuid_hide \"avx,xsave\": one feature name per entry")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "cpuid_hide": "avx" } }""", "machine-config.cpuid_hide: expected a list of strings")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "drive_id": "a" } ] }""", "drives[0].path_on_host is missing")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "discard": "trim" } ] }""", "drives[0].discard \"trim\"")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "queues": 0 } ] }""", "drives[0]: disk a: queues 0 is out of range (1..16)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "queue_size": 100 } ] }""", "drives[0]: disk a: queue-size 100 must be a power of two")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "serial": "\u0001" } ] }""", "drives[0]: disk a: serial must be")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "create_size": "0" } ] }""", "drives[0].create_size \"0\" is not a size")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "create_size": "1000B" } ] }""", "create needs a size that is a non-zero multiple of 512")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "create_size": "1G", "is_read_only": true } ] }""", "create and readonly")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "pci_slot": 0 } ] }""", "drives[0]: disk a: PCI slot 0 is the host bridge's")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "pci_slot": 32 } ] }""", "PCI slot 32 is out of range (1..31)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "pci_slot": 3 } ], "nvme": [ { "ram_size": "8M", "pci_slot": 3 } ] }""", "PCI slot 3 is given twice (disk a and nvme ram=8M)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "drive_id": "x", "path_on_host": "a" }, { "drive_id": "x", "path_on_host": "b" } ] }""", "drive_id \"x\" is used twice")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "dsm": "auto" } ] }""", "nvme[0]: give path_on_host or ram_size")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "path_on_host": "a", "ram_size": "8M" } ] }""", "exclude each other")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "path_on_host": "a", "dsm": "yes" } ] }""", "nvme[0].dsm \"yes\"")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "path_on_host": "a", "sector_size": 1024 } ] }""", "nvme[0]: nvme a: sector-size 1024 must be 512 or 4096")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "path_on_host": "a", "queues": 65 } ] }""", "queues 65 is out of range (1..64)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "path_on_host": "a", "queue_size": 1 } ] }""", "queue-size 1 is out of range (2..4096)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "ram_size": "8M", "direct": true } ] }""", "a RAM namespace cannot be direct or readonly")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "nvme": [ { "ram_size": "5000B" } ] }""", "the RAM size must be a multiple of 4096")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "hvt": { "block_devices": [ { "name": "bad name", "path_on_host": "a" } ] } }""", "hvt.block_devices[0] bad name=a: a device name is at most 67")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "hvt": { "net_devices": [ { "name": "n" } ] } }""", "hvt.net_devices[0].host_dev_name is missing")]
    [InlineData("""{ "name": "a b", "boot-source": { "kernel_image_path": "k" } }""", "vm.json:1:3: name \"a b\": use 1..64 characters")]
    public void Refusals_name_the_file_and_the_field(string json, string message)
    {
        string m = Refusal(json);
        Assert.StartsWith("vm.json", m);
        Assert.Contains(message, m);
        Assert.DoesNotContain('\n', m);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var e = Assert.Throws<ConfigException>(() => MachineFileReader.Load("/nonexistent/bhyve-aot/vm.json"));
        Assert.Equal("machine file /nonexistent/bhyve-aot/vm.json: the directory /nonexistent does not exist", e.Message);
    }

    [Fact]
    public void A_huge_file_is_not_read()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[MachineFileReader.MaxFileBytes + 1]);
            Assert.Contains("is too large (at most 1 MiB)", Assert.Throws<ConfigException>(() => MachineFileReader.Load(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Written_file_reads_back_as_the_same_machine_with_the_slots_made_explicit()
    {
        var config = new VmConfig
        {
            Name = "rt",
            KernelPath = "k",
            Cmdline = "a=\"b c\" é",
            InitrdPath = "i",
            Cpus = 3,
            MemoryBytes = (96UL << 20) + 4096,
            HugePages = true,
            Disks = [new DiskConfig { Path = "a.img", Serial = "S", Discard = DiscardMode.Ignore }, new DiskConfig { Path = "b.img", Create = true, CreateSize = 1UL << 30, PciSlot = 1 }],
            Nvme = [new NvmeConfig { RamBytes = 16UL << 20, Dsm = DsmMode.Disable, SectorSize = 4096 }],
            HvtBlocks = [new HvtDeviceConfig("s", "s.img")],
            GuestArgs = ["x"],
            CpuidHide = Bhyve.Aot.Kvm.CpuidFeature.ParseList("kvmclock", out _),
        };
        string json = MachineFileWriter.Write(config);
        var back = MachineFileReader.Parse(json, "printed");
        // Slots: b.img asked for 1, so a.img gets 2 and the controller 3.
        Assert.Equal(config with
        {
            Disks = [config.Disks[0] with { PciSlot = 2 }, config.Disks[1]],
            Nvme = [config.Nvme[0] with { PciSlot = 3 }],
        }, back);
        Assert.Contains("\"mem_size\": \"98308K\"", json);
        Assert.Contains("é", json);      // written as is, not \u00e9
        Assert.Equal(json, MachineFileWriter.Write(back));
    }

    [Theory]
    [InlineData("examples/hello.json")]
    [InlineData("examples/blk.json")]
    public void Committed_examples_are_valid_machine_files(string file)
    {
        var c = MachineFileReader.Load(Path.Combine(Support.Repo.Root, file));
        Assert.NotNull(c.Name);
        Assert.StartsWith(Path.Combine(Support.Repo.Root, "native/guest/build/"), c.KernelPath);
    }

    [Fact]
    public void Relative_paths_are_relative_to_the_files_directory()
    {
        string dir = Directory.CreateTempSubdirectory("bhyve-aot-mf-").FullName;
        try
        {
            string file = Path.Combine(dir, "vm.json");
            File.WriteAllText(file, """
                { "boot-source": { "kernel_image_path": "k.elf", "initrd_path": "/abs/initrd" },
                  "drives": [ { "path_on_host": "disks/a.img" } ], "nvme": [ { "path_on_host": "../b.img" } ] }
                """);
            var c = MachineFileReader.Load(file);
            Assert.Equal(Path.Combine(dir, "k.elf"), c.KernelPath);
            Assert.Equal("/abs/initrd", c.InitrdPath);
            Assert.Equal(Path.Combine(dir, "disks/a.img"), c.Disks[0].Path);
            Assert.Equal(Path.GetFullPath(Path.Combine(dir, "../b.img")), c.Nvme[0].Path);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_field_given_twice_names_both_lines_and_type_errors_name_line_and_column()
    {
        string json = "{\n  \"boot-source\": { \"kernel_image_path\": \"k\" },\n  \"machine-config\": {\n    \"vcpu_count\": 1,\n    \"vcpu_count\": 2 } }";
        Assert.Equal("vm.json:5:5: machine-config.vcpu_count: the field is given twice (lines 4 and 5)", Refusal(json));
        Assert.Equal("vm.json:2:41: boot-source.kernel_image_path: expected a string, not true or false",
            Refusal("{\n  \"boot-source\": { \"kernel_image_path\": true } }"));
        // A field of another section is not blamed: `serial` belongs to drives[], not the top level.
        Assert.StartsWith("vm.json:1:2: serial: unknown field (the fields at the top level are name, boot-source,", Refusal("{\"serial\":\"x\"}"));
        Assert.StartsWith("vm.json:1:21: machine-config.queues: unknown field", Refusal("{\"machine-config\": {\"queues\":2}}"));
    }
}
