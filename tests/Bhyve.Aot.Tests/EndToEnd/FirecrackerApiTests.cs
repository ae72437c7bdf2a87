using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The Firecracker API over a real Unix socket, against the published binary: Firecracker's getting-started
/// sequence (docs/getting-started.md) with curl, every endpoint's success and failure with an HttpClient, the
/// pre-/post-boot rules against a live guest (hello.elf hold=1 waits for a console byte), and hostile clients.
/// </summary>
public class FirecrackerApiTests
{
    private static string Hello => Repo.Guest("hello.elf");

    /// <summary>bhyve-aot under the name `firecracker` (a symlink), as a Firecracker user's scripts call it.</summary>
    private static string FirecrackerLink()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bhyve-aot-fc-link");
        Directory.CreateDirectory(dir);
        string link = Path.Combine(dir, "firecracker");
        if (!File.Exists(link) || new FileInfo(link).LinkTarget != Repo.Binary)
        {
            File.Delete(link);
            File.CreateSymbolicLink(link, Repo.Binary);
        }
        return link;
    }

    [Fact]
    public async Task Getting_started_sequence_with_curl_boots_hello_as_firecracker()
    {
        await using var vm = await ApiVm.StartAsync(FirecrackerLink(), "--api-sock", "{sock}");
        string log = Path.Combine(vm.Directory, "firecracker.log");
        Assert.Equal(204, (await vm.CurlAsync("PUT", "/logger", $"{{\"log_path\": \"{log}\", \"level\": \"Debug\", \"show_level\": true, \"show_log_origin\": true}}")).Status);
        Assert.Equal(204, (await vm.CurlAsync("PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\", \"boot_args\": \"exit=6 console=ttyS0 reboot=k panic=1\"}}")).Status);
        Assert.Equal(204, (await vm.CurlAsync("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}")).Status);
        Assert.Equal(204, (await vm.CurlAsync("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}")).Status);
        var r = await vm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(13, r.ExitCode);
        Assert.Equal("Bhyve.Aot hello guest\ncmdline: exit=6 console=ttyS0 reboot=k panic=1\nmemory: 65151 KiB\nexit: 6\n", r.Stdout);
        string logged = File.ReadAllText(log);
        Assert.Contains(":INFO:bhyve-aot] InstanceStart: booting", logged);
        Assert.Contains(":DEBUG:bhyve-aot] PUT /machine-config: 204", logged);
    }

    [Fact]
    public async Task Pre_boot_endpoints_answer_as_Firecracker_documents()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "--api-sock", "{sock}", "--id", "test-vm-1");
        var (status, body) = await vm.SendAsync("GET", "/");
        Assert.Equal(200, status);
        using (var info = JsonDocument.Parse(body))
        {
            Assert.Equal("test-vm-1", info.RootElement.GetProperty("id").GetString());
            Assert.Equal("Not started", info.RootElement.GetProperty("state").GetString());
            Assert.Equal("bhyve-aot", info.RootElement.GetProperty("app_name").GetString());
        }
        (status, body) = await vm.SendAsync("GET", "/version");
        Assert.Equal(200, status);
        Assert.StartsWith("1.", JsonDocument.Parse(body).RootElement.GetProperty("firecracker_version").GetString());

        // machine-config: PUT needs both sizes, PATCH changes what it names, GET shows the result.
        Assert.Equal(204, (await vm.SendAsync("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"smt\": false, \"track_dirty_pages\": false, \"huge_pages\": \"None\"}")).Status);
        Assert.Equal(204, (await vm.SendAsync("PATCH", "/machine-config", "{\"mem_size_mib\": 96}")).Status);
        (status, body) = await vm.SendAsync("GET", "/machine-config");
        Assert.Equal(200, status);
        using (var m = JsonDocument.Parse(body))
        {
            Assert.Equal(2, m.RootElement.GetProperty("vcpu_count").GetInt32());
            Assert.Equal(96, m.RootElement.GetProperty("mem_size_mib").GetInt32());
        }
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 1}", "mem_size_mib is missing");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"vcpus\": 3}", "unknown field 'vcpus'");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": \"two\", \"mem_size_mib\": 64}", "vcpu_count: expected a whole number");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 33, \"mem_size_mib\": 64}", "vcpu_count 33");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"cpu_template\": \"T2\"}", "cpu_template \"T2\"");
        await AssertFault(vm, "PUT", "/machine-config", "[1, 2]", "must be a JSON object");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 1,", "not valid JSON");
        await AssertFault(vm, "PUT", "/machine-config", "", "Empty PUT request.");

        // boot-source: the kernel must exist.
        await AssertFault(vm, "PUT", "/boot-source", "{\"kernel_image_path\": \"/nonexistent/vmlinux\"}", "/nonexistent/vmlinux: cannot be opened");
        await AssertFault(vm, "PUT", "/boot-source", "{\"boot_args\": \"console=ttyS0\"}", "kernel_image_path is missing");
        Assert.Equal(204, (await vm.SendAsync("PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\", \"boot_args\": \"exit=0\"}}")).Status);

        // drives: the id in the path and the body agree; the file exists; Firecracker's root-device flag works.
        string disk = Path.Combine(vm.Directory, "rootfs.img");
        File.WriteAllBytes(disk, new byte[1 << 20]);
        await AssertFault(vm, "PUT", "/drives/rootfs", $"{{\"drive_id\": \"other\", \"path_on_host\": \"{disk}\", \"is_root_device\": true, \"is_read_only\": false}}", "does not match");
        await AssertFault(vm, "PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/nonexistent.img\", \"is_root_device\": true, \"is_read_only\": false}", "cannot be opened");
        await AssertFault(vm, "PUT", "/drives/rootfs", $"{{\"drive_id\": \"rootfs\", \"path_on_host\": \"{disk}\", \"is_root_device\": true, \"rate_limiter\": {{\"bandwidth\": {{\"size\": 1, \"refill_time\": 1}}}}}}", "rate limiting is not built");
        Assert.Equal(204, (await vm.SendAsync("PUT", "/drives/rootfs", $"{{\"drive_id\": \"rootfs\", \"path_on_host\": \"{disk}\", \"is_root_device\": true, \"is_read_only\": false, \"cache_type\": \"Unsafe\", \"io_engine\": \"Sync\"}}")).Status);
        await AssertFault(vm, "PUT", "/drives/second", $"{{\"drive_id\": \"second\", \"path_on_host\": \"{disk}\", \"is_root_device\": true}}", "a root block device already exists");
        Assert.Equal(204, (await vm.SendAsync("PATCH", "/drives/rootfs", $"{{\"drive_id\": \"rootfs\", \"path_on_host\": \"{disk}\"}}")).Status);
        await AssertFault(vm, "PATCH", "/drives/nosuch", $"{{\"drive_id\": \"nosuch\", \"path_on_host\": \"{disk}\"}}", "no such drive");

        // The NVMe extension, in the same style.
        Assert.Equal(204, (await vm.SendAsync("PUT", "/nvme/scratch", "{\"drive_id\": \"scratch\", \"ram_size\": \"16M\"}")).Status);
        await AssertFault(vm, "PUT", "/nvme/scratch", "{\"drive_id\": \"scratch\", \"ram_size\": \"16M\", \"sector_size\": 1000}", "sector");

        // GET /vm/config is the effective machine, as `config print` writes it: root=/dev/vda rw was appended.
        (status, body) = await vm.SendAsync("GET", "/vm/config");
        Assert.Equal(200, status);
        using (var config = JsonDocument.Parse(body))
        {
            Assert.Equal("exit=0 root=/dev/vda rw", config.RootElement.GetProperty("boot-source").GetProperty("boot_args").GetString());
            Assert.Equal(disk, config.RootElement.GetProperty("drives")[0].GetProperty("path_on_host").GetString());
            Assert.Equal(96L << 20, (long)config.RootElement.GetProperty("machine-config").GetProperty("mem_size_mib").GetInt64() << 20);
        }

        // Devices that are not built yet say so; they never answer 204.
        await AssertFault(vm, "PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", "virtio-net is not built");
        await AssertFault(vm, "PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}", "virtio-vsock is not built");
        await AssertFault(vm, "PUT", "/entropy", "{}", "virtio-rng is not built");

        // Run-time requests before boot, unknown actions and paths.
        await AssertFault(vm, "PATCH", "/vm", "{\"state\": \"Paused\"}", "not supported before starting");
        await AssertFault(vm, "PATCH", "/vm", "{\"state\": \"Frozen\"}", "expected Paused or Resumed");
        await AssertFault(vm, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", "not supported before starting");
        await AssertFault(vm, "PUT", "/actions", "{\"action_type\": \"Reboot\"}", "action_type \"Reboot\"");
        await AssertFault(vm, "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", "metrics are not configured");
        await AssertFault(vm, "GET", "/snapshot/create", null, "Invalid request method and/or path: GET /snapshot/create.");
        await AssertFault(vm, "DELETE", "/machine-config", null, "Invalid request method and/or path");
        await AssertFault(vm, "GET", "/", "{}", "GET request cannot have a body.");
    }

    [Fact]
    public async Task Post_boot_rules_hold_against_a_running_guest_and_metrics_lines_are_JSON()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "--api-sock", "{sock}");
        string metrics = Path.Combine(vm.Directory, "metrics.json");
        Assert.Equal(204, (await vm.SendAsync("PUT", "/metrics", $"{{\"metrics_path\": \"{metrics}\"}}")).Status);
        await AssertFault(vm, "PUT", "/metrics", $"{{\"metrics_path\": \"{metrics}\"}}", "reinitialization");
        Assert.Equal(204, (await vm.SendAsync("PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\", \"boot_args\": \"hold=1 exit=4\"}}")).Status);
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}")).Status);
        var sw = Stopwatch.StartNew();
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}")).Status);
        await vm.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));

        var (status, body) = await vm.SendAsync("GET", "/");
        Assert.Equal("Running", JsonDocument.Parse(body).RootElement.GetProperty("state").GetString());
        await AssertFault(vm, "PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\"}}", "not supported after starting the microVM");
        await AssertFault(vm, "PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64}", "not supported after starting the microVM");
        await AssertFault(vm, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "already running");
        await AssertFault(vm, "PATCH", "/vm", "{\"state\": \"Frozen\"}", "expected Paused or Resumed");
        (status, body) = await vm.SendAsync("GET", "/vm/config");
        Assert.Equal(200, status);
        Assert.Equal("hold=1 exit=4", JsonDocument.Parse(body).RootElement.GetProperty("boot-source").GetProperty("boot_args").GetString());

        // Let the guest print some more, then flush: the counters moved between the two lines.
        await Task.Delay(200);
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}")).Status);
        vm.Type("q");
        var r = await vm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9, r.ExitCode);
        Assert.EndsWith("holding: send a byte on the console to go on\nexit: 4\n", r.Stdout);

        var lines = File.ReadAllLines(metrics);
        Assert.Equal(2, lines.Length);
        using var before = JsonDocument.Parse(lines[0]);
        using var after = JsonDocument.Parse(lines[1]);
        Assert.True(before.RootElement.GetProperty("utc_timestamp_ms").GetInt64() > 1_600_000_000_000);
        Assert.False(before.RootElement.TryGetProperty("vcpu", out _)); // nothing runs yet
        Assert.True(after.RootElement.GetProperty("vcpu").GetProperty("exit_io").GetInt64() > 0);
        Assert.True(after.RootElement.GetProperty("uart").GetProperty("written_bytes").GetInt64() > 0);
        Assert.True(after.RootElement.GetProperty("api_server").GetProperty("requests").GetInt64() > before.RootElement.GetProperty("api_server").GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Patch_vm_paused_stops_the_guest_and_resumed_lets_it_go_on()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "run", "--kernel", Hello, "--cmdline", "hold=1 exit=4", "--api-sock", "{sock}");
        await vm.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(204, (await vm.SendAsync("PATCH", "/vm", "{\"state\": \"Paused\"}")).Status);
        Assert.Equal("Paused", JsonDocument.Parse((await vm.SendAsync("GET", "/")).Body).RootElement.GetProperty("state").GetString());
        // As Firecracker: pausing a paused microVM succeeds.
        Assert.Equal(204, (await vm.SendAsync("PATCH", "/vm", "{\"state\": \"Paused\"}")).Status);

        // The byte that releases hello.elf arrives while its vCPU is parked: nothing is printed and it does not exit.
        vm.Type("q");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(vm.HasExited, $"the guest ran while paused:\n{vm.Stdout}\n{vm.Stderr}");
        Assert.DoesNotContain("exit: 4", vm.Stdout);
        Assert.Equal("Paused", JsonDocument.Parse((await vm.SendAsync("GET", "/")).Body).RootElement.GetProperty("state").GetString());

        Assert.Equal(204, (await vm.SendAsync("PATCH", "/vm", "{\"state\": \"Resumed\"}")).Status);
        var r = await vm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9, r.ExitCode);
        Assert.EndsWith("holding: send a byte on the console to go on\nexit: 4\n", r.Stdout);
    }

    [Fact]
    public async Task SendCtrlAltDel_presses_the_power_button_and_the_guest_powers_off()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "run", "--kernel", Repo.Guest("powerbutton.elf"), "--api-sock", "{sock}");
        await vm.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}")).Status);
        var r = await vm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Bhyve.Aot.Vmm.ExitCodes.PoweredOff, r.ExitCode);
        Assert.Contains("powerbutton guest: power button pressed, powering off", r.Stdout);
    }

    [Fact]
    public async Task SendCtrlAltDel_only_asks_a_guest_that_ignores_the_button_keeps_running()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "run", "--kernel", Repo.Guest("powerbutton.elf"), "--cmdline", "ignore", "--shutdown-timeout", "1", "--api-sock", "{sock}");
        await vm.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}")).Status);
        // Firecracker's SendCtrlAltDel is a request: no stop follows, unlike SIGTERM's press, which stops after --shutdown-timeout (1 s here).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(vm.HasExited, vm.Stderr);
        Assert.Equal("Running", JsonDocument.Parse((await vm.SendAsync("GET", "/")).Body).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Run_with_api_sock_serves_the_running_machine()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "run", "--kernel", Hello, "--cmdline", "hold=1 exit=1", "--name", "byopts", "--api-sock", "{sock}");
        await vm.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));
        var (status, body) = await vm.SendAsync("GET", "/");
        Assert.Equal(200, status);
        Assert.Equal("Running", JsonDocument.Parse(body).RootElement.GetProperty("state").GetString());
        Assert.Equal("byopts", JsonDocument.Parse(body).RootElement.GetProperty("id").GetString());
        (status, body) = await vm.SendAsync("GET", "/vm/config");
        Assert.Equal("byopts", JsonDocument.Parse(body).RootElement.GetProperty("name").GetString());
        await AssertFault(vm, "PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\"}}", "not supported after starting");
        vm.Type("q");
        Assert.Equal(3, (await vm.WaitForExitAsync(TimeSpan.FromSeconds(30))).ExitCode);
    }

    [Fact]
    public async Task A_failed_start_is_a_fault_and_the_api_waits_for_a_corrected_machine()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "--api-sock", "{sock}");
        string notElf = Path.Combine(vm.Directory, "not-a-kernel");
        File.WriteAllText(notElf, "this is not a kernel image");
        Assert.Equal(204, (await vm.SendAsync("PUT", "/boot-source", $"{{\"kernel_image_path\": \"{notElf}\"}}")).Status);
        await AssertFault(vm, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "Start microvm error: ");
        Assert.Equal("Not started", JsonDocument.Parse((await vm.SendAsync("GET", "/")).Body).RootElement.GetProperty("state").GetString());
        Assert.Equal(204, (await vm.SendAsync("PUT", "/boot-source", $"{{\"kernel_image_path\": \"{Hello}\", \"boot_args\": \"exit=2\"}}")).Status);
        Assert.Equal(204, (await vm.SendAsync("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}")).Status);
        Assert.Equal(5, (await vm.WaitForExitAsync(TimeSpan.FromSeconds(30))).ExitCode);
    }

    [Fact]
    public async Task Malformed_huge_and_slow_clients_neither_crash_nor_block_the_server()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "--api-sock", "{sock}");
        var random = new Random(19);

        // A slow client that sends half a request line and stalls: it holds only its own connection.
        using var slow = await Connect(vm.Socket);
        await slow.SendAsync(Encoding.ASCII.GetBytes("PUT /machine-con"));

        // Random bytes, many times: every connection gets an answer or is closed; none hangs the server.
        for (int i = 0; i < 50; i++)
        {
            var junk = new byte[random.Next(1, 4000)];
            random.NextBytes(junk);
            if (i % 2 == 0) junk.AsSpan(junk.Length - Math.Min(4, junk.Length)).Fill((byte)'\n');
            using var s = await Connect(vm.Socket);
            try { await s.SendAsync(junk); s.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
            string reply = await ReadAll(s, TimeSpan.FromSeconds(10));
            Assert.True(reply.Length == 0 || reply.StartsWith("HTTP/1.1 4") || reply.StartsWith("HTTP/1.1 5"), reply);
        }

        // A header block past the bound: 431, not an out-of-memory.
        using (var s = await Connect(vm.Socket))
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-Big: " + new string('a', 100_000) + "\r\n\r\n"));
            Assert.StartsWith("HTTP/1.1 431", await ReadAll(s, TimeSpan.FromSeconds(10)));
        }
        // A body past Firecracker's payload limit: 413 with a fault.
        using (var s = await Connect(vm.Socket))
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("PUT /machine-config HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n"));
            string reply = await ReadAll(s, TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 413", reply);
            Assert.Contains("fault_message", reply);
        }
        // Chunked bodies are refused, not misread.
        using (var s = await Connect(vm.Socket))
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("PUT /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
            Assert.StartsWith("HTTP/1.1 501", await ReadAll(s, TimeSpan.FromSeconds(10)));
        }

        // Many clients at once, while the slow one still stalls: all answered, one at a time.
        var tasks = Enumerable.Range(0, 32).Select(async i =>
        {
            using var http = ApiVm.ForSocket(vm.Socket);
            using var response = await http.PutAsync("/machine-config", new StringContent($"{{\"vcpu_count\": {1 + i % 4}, \"mem_size_mib\": {64 + i}}}"));
            return (int)response.StatusCode;
        });
        Assert.All(await Task.WhenAll(tasks), s => Assert.Equal(204, s));

        // The slow client is cut off after the request timeout with 408.
        Assert.StartsWith("HTTP/1.1 408", await ReadAll(slow, TimeSpan.FromSeconds(20)));
        Assert.Equal(200, (await vm.SendAsync("GET", "/")).Status);
        Assert.False(vm.HasExited, vm.Stderr);
    }

    [Fact]
    public async Task A_second_server_on_the_same_socket_is_refused_with_one_line()
    {
        await using var vm = await ApiVm.StartAsync(Repo.Binary, "--api-sock", "{sock}");
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["--api-sock", vm.Socket]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains($"--api-sock {vm.Socket}: cannot listen there", r.Stderr);
        Assert.Contains("remove the old socket first", r.Stderr);
        Assert.Equal(200, (await vm.SendAsync("GET", "/")).Status);
    }

    [Fact]
    public async Task Firecracker_flags_version_and_no_api_with_a_config_file()
    {
        var version = await ProcessRunner.RunAsync(FirecrackerLink(), ["--version"]);
        Assert.Equal(0, version.ExitCode);
        Assert.StartsWith("Firecracker v1.", version.Stdout);

        string dir = Path.Combine(Path.GetTempPath(), $"bhyve-aot-fc-{Guid.NewGuid():N}"[..22]);
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Hello, Path.Combine(dir, "vmlinux.bin"));
            // Firecracker's own tests/framework/vm_config.json shape, every null and [] included; paths relative to the file.
            File.WriteAllText(Path.Combine(dir, "vm_config.json"), """
                {
                  "boot-source": { "kernel_image_path": "vmlinux.bin", "boot_args": "console=ttyS0 reboot=k panic=1 exit=3", "initrd_path": null },
                  "drives": [],
                  "machine-config": { "vcpu_count": 2, "mem_size_mib": 64, "smt": false, "track_dirty_pages": false, "huge_pages": "None" },
                  "cpu-config": null, "balloon": null, "network-interfaces": [], "vsock": null, "logger": null, "metrics": null,
                  "mmds-config": null, "entropy": null, "pmem": [], "memory-hotplug": null
                }
                """);
            var r = await ProcessRunner.RunAsync(FirecrackerLink(), ["--no-api", "--config-file", Path.Combine(dir, "vm_config.json"), "--id", "fc1", "--seccomp-filter", "/dev/null", "--level", "Info"]);
            Assert.Equal(7, r.ExitCode);
            Assert.Contains("cmdline: console=ttyS0 reboot=k panic=1 exit=3\n", r.Stdout);

            var noFile = await ProcessRunner.RunAsync(FirecrackerLink(), ["--no-api"]);
            Assert.Equal(2, noFile.ExitCode);
            Assert.Contains("--no-api needs --config-file", noFile.Stderr);
            var badId = await ProcessRunner.RunAsync(FirecrackerLink(), ["--no-api", "--id", "has space"]);
            Assert.Equal(2, badId.ExitCode);
            Assert.Single(badId.StderrLines);
            var both = await ProcessRunner.RunAsync(Repo.Binary, ["--no-api", "--no-seccomp", "--seccomp-filter", "x"]);
            Assert.Equal(2, both.ExitCode);
            var unknown = await ProcessRunner.RunAsync(FirecrackerLink(), ["--frobnicate"]);
            Assert.Equal(2, unknown.ExitCode);
            Assert.Single(unknown.StderrLines);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task Two_VMs_on_one_image_the_second_is_refused_with_one_line()
    {
        await using var first = await ApiVm.StartAsync(Repo.Binary, "run", "--kernel", Hello, "--cmdline", "hold=1", "--disk", "path={dir}/shared.img,size=1M,create", "--api-sock", "{sock}");
        await first.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(20));
        string image = Path.Combine(first.Directory, "shared.img");
        var second = await ProcessRunner.RunBhyveAsync("run", "--kernel", Hello, "--disk", image);
        Assert.Equal(2, second.ExitCode);
        Assert.Single(second.StderrLines);
        Assert.Contains($"{image}: the image is locked", second.Stderr);
        // Read-only is refused too while the first VM writes; lock=off is the user's override.
        Assert.Equal(2, (await ProcessRunner.RunBhyveAsync("run", "--kernel", Hello, "--disk", $"{image},readonly")).ExitCode);
        Assert.Equal(1, (await ProcessRunner.RunBhyveAsync("run", "--kernel", Hello, "--disk", $"{image},lock=off")).ExitCode);
        first.Type("q");
        Assert.Equal(1, (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).ExitCode);
        Assert.Equal(1, (await ProcessRunner.RunBhyveAsync("run", "--kernel", Hello, "--disk", image)).ExitCode);
    }

    private static async Task AssertFault(ApiVm vm, string method, string path, string? body, string expected)
    {
        var (status, text) = await vm.SendAsync(method, path, body);
        Assert.True(status == 400, $"{method} {path} {body}: {status} {text}");
        using var fault = JsonDocument.Parse(text);
        string message = fault.RootElement.GetProperty("fault_message").GetString()!;
        Assert.Contains(expected, message);
        Assert.DoesNotContain("Exception", message);
    }

    private static async Task<Socket> Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return s;
    }

    private static async Task<string> ReadAll(Socket s, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[8192];
        var all = new MemoryStream();
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0) all.Write(buffer, 0, n);
        }
        catch (SocketException) { }
        catch (OperationCanceledException) { throw new TimeoutException($"no end of reply within {timeout.TotalSeconds} s; got {all.Length} bytes"); }
        return Encoding.ASCII.GetString(all.ToArray());
    }
}
