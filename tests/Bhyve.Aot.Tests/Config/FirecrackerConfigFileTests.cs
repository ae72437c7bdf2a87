using Bhyve.Aot.Config;
using Xunit;

namespace Bhyve.Aot.Tests.Config;

/// <summary>
/// Firecracker config files run unchanged: the shape of Firecracker's tests/framework/vm_config.json (every absent
/// device spelled null or []), is_root_device turned into root= as Firecracker's builder does, relative paths.
/// </summary>
public class FirecrackerConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-fcfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Firecracker's tests/framework/vm_config.json, field for field (only the sizes differ).
    private const string FirecrackerVmConfig =
        """
        {
          "boot-source": { "kernel_image_path": "vmlinux.bin", "boot_args": "console=ttyS0 reboot=k panic=1", "initrd_path": null },
          "drives": [
            { "drive_id": "rootfs", "partuuid": null, "is_root_device": true, "cache_type": "Unsafe", "is_read_only": false,
              "path_on_host": "bionic.rootfs.ext4", "io_engine": "Sync", "rate_limiter": null, "socket": null }
          ],
          "machine-config": { "vcpu_count": 2, "mem_size_mib": 1024, "smt": false, "track_dirty_pages": false, "huge_pages": "None" },
          "cpu-config": null, "balloon": null, "network-interfaces": [], "vsock": null, "logger": null, "metrics": null,
          "mmds-config": null, "entropy": null, "pmem": [], "memory-hotplug": null
        }
        """;

    [Fact]
    public void Firecrackers_own_vm_config_json_reads_unchanged_with_root_appended_and_paths_next_to_the_file()
    {
        string file = Path.Combine(_dir, "vm_config.json");
        File.WriteAllText(file, FirecrackerVmConfig);
        var c = MachineFileReader.Load(file);
        Assert.Equal(Path.Combine(_dir, "vmlinux.bin"), c.KernelPath);
        Assert.Equal("console=ttyS0 reboot=k panic=1 root=/dev/vda rw", c.Cmdline);
        Assert.Equal(Path.Combine(_dir, "bionic.rootfs.ext4"), Assert.Single(c.Disks).Path);
        Assert.False(c.Disks[0].ReadOnly);
        Assert.Equal(2, c.Cpus);
        Assert.Equal(1024UL << 20, c.MemoryBytes);
        Assert.False(c.HugePages);
    }

    [Theory]
    [InlineData("\"partuuid\": \"0eaa91a0-01\", \"is_read_only\": false", "root=PARTUUID=0eaa91a0-01 rw")]
    [InlineData("\"partuuid\": \"0eaa91a0-01\", \"is_read_only\": true", "root=PARTUUID=0eaa91a0-01 ro")]
    [InlineData("\"is_read_only\": true", "root=/dev/vda ro")]
    public void The_root_argument_follows_Firecrackers_rule(string fields, string expected)
    {
        var c = MachineFileReader.Parse(
            $$"""{ "boot-source": { "kernel_image_path": "k", "boot_args": "quiet" }, "drives": [ { "drive_id": "root", "path_on_host": "r.img", "is_root_device": true, {{fields}} } ] }""",
            "vm.json");
        Assert.Equal($"quiet {expected}", c.Cmdline);
    }

    [Fact]
    public void The_root_drive_is_attached_first_so_it_is_vda()
    {
        var c = MachineFileReader.Parse(
            """
            { "boot-source": { "kernel_image_path": "k" }, "drives": [
                { "drive_id": "data", "path_on_host": "data.img", "is_root_device": false },
                { "drive_id": "rootfs", "path_on_host": "root.img", "is_root_device": true } ] }
            """, "vm.json");
        Assert.Equal(["root.img", "data.img"], c.Disks.Select(d => d.Path));
        Assert.Equal("root=/dev/vda rw", c.Cmdline);
    }

    [Theory]
    [InlineData("Transparent", true)]
    [InlineData("2M", true)]
    [InlineData("None", false)]
    public void Huge_pages_values_are_Firecrackers(string value, bool huge)
    {
        var c = MachineFileReader.Parse($$"""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "huge_pages": "{{value}}" } }""", "vm.json");
        Assert.Equal(huge, c.HugePages);
    }

    [Fact]
    public void Absolute_paths_stay_as_written()
    {
        string file = Path.Combine(_dir, "abs.json");
        File.WriteAllText(file, """{ "boot-source": { "kernel_image_path": "/boot/vmlinux", "initrd_path": "/boot/initrd" } }""");
        var c = MachineFileReader.Load(file);
        Assert.Equal("/boot/vmlinux", c.KernelPath);
        Assert.Equal("/boot/initrd", c.InitrdPath);
    }
}
