using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The published binary driven by bhyve's command line and by a machine file: the hello and blk-selftest guests run
/// exactly as with `run`, devices land in the slot asked for, and refusals are one line with status 2.
/// </summary>
public sealed class BhyveFormTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-bhyveform-").FullName;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Hello_boots_from_the_bhyve_form()
    {
        var r = await ProcessRunner.RunBhyveAsync("-AHP", "-c", "1", "-m", "64M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
            "-b", Repo.Guest("hello.elf"), "-t", "exit=3 foo=bar", "hello");

        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal("Bhyve.Aot hello guest\ncmdline: exit=3 foo=bar\nmemory: 65151 KiB\nexit: 3\n", r.Stdout);
        Assert.Equal(7, r.ExitCode);
    }

    [Fact]
    public async Task Bhyve_memory_without_a_suffix_is_MiB_and_several_CPUs_boot()
    {
        var r = await ProcessRunner.RunBhyveAsync("-c", "cpus=2,sockets=1,cores=2", "-m", "128", "-b", Repo.Guest("hello.elf"), "-t", "exit=5", "vm2");
        Assert.True(r.Stderr == "", r.ToString());
        Assert.Contains($"memory: {((128UL << 20) - (0x10_0000 - 0x9_FC00)) >> 10} KiB\n", r.Stdout);
        Assert.Equal(11, r.ExitCode);
    }

    [Fact]
    public async Task Hello_boots_from_the_example_machine_file()
    {
        // The committed example names the guest relative to the file (in examples/); point it at the guests under test.
        string json = File.ReadAllText(Path.Combine(Repo.Root, "examples", "hello.json")).Replace("../native/guest/build/hello.elf", Repo.Guest("hello.elf"));
        string file = Path.Combine(_dir, "hello.json");
        File.WriteAllText(file, json);

        var r = await ProcessRunner.RunBhyveAsync("run", "--config", file);

        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal("Bhyve.Aot hello guest\ncmdline: exit=3 hello=world\nmemory: 65151 KiB\nexit: 3\n", r.Stdout);
        Assert.Equal(7, r.ExitCode);
    }

    [Fact]
    public async Task Blk_selftest_passes_on_a_disk_given_with_s_and_the_guest_finds_it_in_that_slot()
    {
        Repo.RequireKvm();
        string image = Path.Combine(_dir, "disk.img");
        var r = await ProcessRunner.RunAsync(Repo.Binary,
        [
            "-m", "128M", "-s", "0,hostbridge", "-s", $"5,virtio-blk,{image},size=64M,create,ser=bhyve-form,discard", "-l", "com1,stdio",
            "-b", Repo.Guest("blk-selftest.elf"), "-t", "discard_zeroes=1", "--stats", "blkvm",
        ], Timeout);

        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(output.Failures.Count == 0 && output.Passed > 0 && output.Failed == 0, r.ToString());
        foreach (string check in new[] { "write_read", "discard", "write_zeroes", "final_verify" })
            Assert.True(output.Ok.Contains(check), $"check {check} did not pass:\n{r}");
        Assert.Contains("bhyve-form", r.Stdout);                      // the serial, read back by GET_ID
        Assert.Contains("info: pci 00:05.0 1af4:1042", r.Stdout);      // where the guest's PCI scan found it
        Assert.DoesNotContain("info: pci 00:01.0", r.Stdout);          // and not in the first free slot
        Assert.Empty(output.Verify(image));
        // --stats lines carry the VM's name.
        Assert.Contains("bhyve-aot: blkvm: exits to user space:", r.Stderr);
    }

    [Fact]
    public async Task Blk_selftest_passes_read_only_with_bhyve_ro()
    {
        Repo.RequireKvm();
        string image = Path.Combine(_dir, "ro.img");
        var bytes = new byte[16 << 20];
        for (int o = 0; o < 1 << 20; o++) bytes[o] = BlkSelftestOutput.Pattern((ulong)o, 7);
        File.WriteAllBytes(image, bytes);

        var r = await ProcessRunner.RunAsync(Repo.Binary,
            ["-m", "128M", "-s", "0,hostbridge", "-s", $"2,virtio-blk,{image},ro", "-b", Repo.Guest("blk-selftest.elf"), "-t", "ro_expect=7", "rovm"], Timeout);

        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1 && output.Failed == 0 && output.Failures.Count == 0, r.ToString());
        foreach (string check in new[] { "ro_read", "ro_write", "ro_expect" })
            Assert.True(output.Ok.Contains(check), $"check {check} did not pass:\n{r}");
        Assert.Equal(bytes, File.ReadAllBytes(image));
    }

    /// <summary>The issue's command line, made runnable: a virtio-blk disk in slot 2 and an NVMe controller in slot 3.</summary>
    [Fact]
    public async Task Nvme_selftest_passes_on_the_issue_command_line_with_each_device_in_its_slot()
    {
        Repo.RequireKvm();
        string disk = Path.Combine(_dir, "disk.img"), data = Path.Combine(_dir, "data.img");
        var r = await ProcessRunner.RunAsync(Repo.Binary,
        [
            "-c", "2", "-m", "128M", "-s", "0,hostbridge", "-s", $"2,virtio-blk,{disk},size=16M,create,discard",
            "-s", $"3,nvme,{data},size=64M,create,dsm=enable,ser=bhyve-form,maxq=4,qsz=256", "-l", "com1,stdio",
            "-b", Repo.Guest("nvme-selftest.elf"), "-t", "expect_sn=bhyve-form", "--stats", "nvmevm",
        ], Timeout);

        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(output.Failures.Count == 0 && output.Passed > 0 && output.Failed == 0, r.ToString());
        NvmeSelftestTests.AssertPassed(r, output, NvmeSelftestTests.WriteChecks);
        Assert.Contains("info: pci 00:02.0 1af4:1042", r.Stdout);
        Assert.Contains($"info: pci 00:03.0 {NvmeController.Vendor:x4}:{NvmeController.Device:x4}", r.Stdout);
        Assert.Empty(output.Verify(data));
        Assert.Contains("bhyve-aot: nvmevm: nvme:", r.Stderr);
    }

    [Fact]
    public async Task Blk_selftest_passes_from_the_example_machine_file()
    {
        Repo.RequireKvm();
        string image = Path.Combine(_dir, "example.img");
        string json = File.ReadAllText(Path.Combine(Repo.Root, "examples", "blk.json"))
            .Replace("../native/guest/build/blk-selftest.elf", Repo.Guest("blk-selftest.elf"))
            .Replace("/var/tmp/bhyve-aot-blk.img", image);
        string file = Path.Combine(_dir, "blk.json");
        File.WriteAllText(file, json);

        var r = await ProcessRunner.RunAsync(Repo.Binary, ["run", "--config", file], Timeout);

        var output = new BlkSelftestOutput(r.Stdout);
        Assert.True(r.ExitCode == 1 && output.Failed == 0 && output.Failures.Count == 0 && output.Passed > 0, r.ToString());
        Assert.Contains("info: pci 00:02.0 1af4:1042", r.Stdout);
        Assert.Contains("bhyve-test", r.Stdout);
        Assert.Equal(64L << 20, new FileInfo(image).Length);
        Assert.Empty(output.Verify(image));
    }

    /// <summary>The NativeAOT binary's JSON (source-generated, resource keys instead of messages) words errors the same.</summary>
    [Theory]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "drives": [ { "path_on_host": "a", "io_mode": "Async" } ] }""", ":1:83: drives[0].io_mode: unknown field (the fields of drives[0] are drive_id, path_on_host, is_read_only, is_root_device, partuuid, cache_type, io_engine, rate_limiter, socket, discard, direct, queues, queue_size, serial, create_size, pci_slot, lock)")]
    [InlineData("""{ "boot-source": { "kernel_image_path": "k" }, "machine-config": { "vcpu_count": "two" } }""", ":1:82: machine-config.vcpu_count: expected a whole number, not a string")]
    [InlineData("{ \"boot-source\": ", ":1:18: the file ends inside the JSON (a missing } or ], or an unclosed string)")]
    public async Task Machine_file_errors_from_the_binary(string json, string message)
    {
        string file = Path.Combine(_dir, "bad.json");
        File.WriteAllText(file, json);
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["run", "--config", file]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"bhyve-aot: {file}{message}", Assert.Single(r.StderrLines));
    }

    [Fact]
    public async Task Config_print_from_the_binary_is_the_same_for_the_bhyve_and_run_forms()
    {
        var bhyve = await ProcessRunner.RunAsync(Repo.Binary,
            ["config", "print", "-c", "2", "-m", "512", "-s", "0,hostbridge", "-s", "2,virtio-blk,disk.img,nodelete", "-s", "3,nvme,ram=64", "-b", "vmlinux", "myvm"]);
        var run = await ProcessRunner.RunAsync(Repo.Binary,
            ["config", "print", "run", "--cpus", "2", "--memory", "512M", "--disk", "disk.img,discard=ignore,slot=2", "--nvme", "ram=64M,slot=3", "--kernel", "vmlinux", "--name", "myvm"]);
        Assert.True(bhyve.ExitCode == 0 && bhyve.Stderr == "", bhyve.ToString());
        Assert.Equal(bhyve.Stdout, run.Stdout);
        Assert.Contains("\"discard\": \"ignore\"", bhyve.Stdout);
        Assert.Contains("\"ram_size\": \"64M\"", bhyve.Stdout);
    }

    [Theory]
    [InlineData("-s 3,virtio-net,tap0", "-s 3,virtio-net: bhyve-aot does not emulate virtio-net")]
    [InlineData("-s 0,hostbridge -s 0,hostbridge", "-s 0,hostbridge is given twice")]
    [InlineData("-s 4,hostbridge", "-s 4,hostbridge: the host bridge sits at slot 0")]
    [InlineData("-s 2,virtio-blk,/nonexistent/bhyve-aot.img", "vm: -s 2,virtio-blk: /nonexistent/bhyve-aot.img: the directory /nonexistent does not exist")]
    [InlineData("-s 2,virtio-blk,a.img,sectorsize=512", "-s 2,virtio-blk: sectorsize is not supported")]
    [InlineData("-l com2,stdio", "-l com2,stdio: only COM1 is emulated")]
    public async Task Refusals_are_one_line_and_bhyves_status_4(string options, string message)
    {
        var r = await ProcessRunner.RunBhyveAsync([.. options.Split(' '), "-b", Repo.Guest("hello.elf"), "vm"]);
        Assert.Equal(4, r.ExitCode);   // bhyve(8): "exited due to an error"
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(message, line);
    }
}
