using System.Text.Json;
using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// Each first-contact message of issue 20, on the published binary: the status, one line on stderr, and the words.
/// None of these needs KVM (each is refused, or answered, before a VM exists).
/// </summary>
public sealed class FrontDoorMessagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-frontdoor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<ProcessResult> Refused(int status, string words, params string[] args)
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, args, TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == status, r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.True(line.Contains(words, StringComparison.Ordinal), $"expected \"{words}\" in: {line}");
        Assert.DoesNotContain("Exception", line);
        Assert.DoesNotContain("System.", line);
        Assert.DoesNotContain("internal error", line);
        return r;
    }

    public static TheoryData<string, int, string> Messages => new()
    {
        { "run --kernal x", 2, "run: unknown option '--kernal' (did you mean --kernel?)" },
        { "chekc", 2, "unknown command 'chekc' (did you mean check?)" },
        { "run --cpus two --kernel x", 2, "--cpus: 'two' is not a number of vCPUs (1..64)" },
        { "bench storage", 2, "bench storage: --disk is required; see `bhyve-aot bench storage --help`" },
        { "run --kernel /dev/zero", 2, "kernel image /dev/zero: is not a regular file (a character device)" },
        { "run --config /dev/zero", 2, "machine file /dev/zero: is not a regular file (a character device)" },
        { "run --kernel /tmp", 2, "kernel image /tmp: is a directory" },
        { "run --config /tmp", 2, "machine file /tmp: is a directory" },
        { "bench storage --disk /tmp", 2, "--disk: /tmp: is a directory" },
        { "run --kernel /nonexistent/k -m 1", 2, "--memory 1M: memory must be at least 4 MiB" },
        { "-s 2,virtio-net,tap0 -b k vm", 4, "-s 2,virtio-net: bhyve-aot does not emulate virtio-net" },
        { "-o frob=1 -b k vm", 4, "-o frob: unknown configuration variable 'frob'" },
        { "-e -b k vm", 4, "-e: exiting on unhandled I/O port accesses is not supported" },
        { "-s 2,virtio-blk,/nonexistent-frontdoor.img -b k vm", 4, "vm: -s 2,virtio-blk: /nonexistent-frontdoor.img: no such file" },
        { "-s 2,virtio-blk,/tmp -b k vm", 4, "vm: -s 2,virtio-blk: /tmp: is a directory" },
        { "-s 2,virtio-blk,a.img,discard=trim -b k vm", 4, "discard=trim: expected unmap, ignore, on or off" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public async Task Each_refusal_is_one_line_with_the_right_words_and_status(string commandLine, int status, string words) =>
        await Refused(status, words, commandLine.Split(' '));

    [Theory]
    [InlineData("bench storage --help")]
    [InlineData("bench storage -h")]
    [InlineData("bench storage -?")]
    [InlineData("run --help")]
    [InlineData("config print --help")]
    public async Task Help_is_always_reachable(string commandLine)
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, commandLine.Split(' '));
        Assert.True(r.ExitCode == 0 && r.Stderr == "", r.ToString());
        Assert.Contains("Usage:", r.Stdout);
    }

    [Fact]
    public async Task Alone_it_prints_a_short_usage_and_where_to_look()
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, []);
        Assert.True(r.ExitCode == ExitCodes.Usage && r.Stdout == "", r.ToString());
        Assert.Contains("usage: bhyve-aot run --kernel FILE", r.Stderr);
        Assert.Contains("bhyve-aot --help", r.Stderr);
    }

    [Fact]
    public async Task A_closed_stdout_is_one_line_and_its_own_status()
    {
        var r = await ProcessRunner.RunAsync("/bin/sh", ["-c", $"exec '{Repo.Binary}' config print run --kernel k >&-"]);
        Assert.True(r.ExitCode == ExitCodes.OutputFailed, r.ToString());
        Assert.Equal("bhyve-aot: standard output is closed or cannot be written", Assert.Single(r.StderrLines));
    }

    [Fact]
    public async Task Bench_output_that_is_a_file_is_refused_before_anything_runs()
    {
        string file = Write("results", "x");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Refused(ExitCodes.Usage, "--output " + file + ": is a file", "bench", "storage", "--disk", "64M", "--output", file);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the refusal came after the suite ran");
    }

    [Fact]
    public async Task A_fifo_never_blocks_and_is_named()
    {
        string fifo = Path.Combine(_dir, "fifo");
        using (var p = System.Diagnostics.Process.Start("mkfifo", [fifo])) p.WaitForExit();
        await Refused(ExitCodes.Usage, $"kernel image {fifo}: is not a regular file (a FIFO)", "run", "--kernel", fifo);
        await Refused(ExitCodes.Usage, $"machine file {fifo}: is not a regular file (a FIFO)", "run", "--config", fifo);
    }

    [Fact]
    public async Task A_missing_directory_is_named_and_a_newline_in_a_name_stays_on_one_line()
    {
        await Refused(ExitCodes.Usage, "the directory /nonexistent-frontdoor does not exist", "run", "--kernel", "/nonexistent-frontdoor/k");
        await Refused(ExitCodes.Usage, "kernel image a\\nb: no such file", "run", "--kernel", "a\nb");
    }

    [Fact]
    public async Task A_plain_number_is_MiB_and_help_shows_sizes_as_written()
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["config", "print", "run", "--kernel", "k", "-m", "64"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("\"mem_size_mib\": 64", r.Stdout);
        var help = await ProcessRunner.RunAsync(Repo.Binary, ["run", "--help"]);
        Assert.Contains("[default: 64M]", help.Stdout);
        Assert.DoesNotContain("67108864", help.Stdout);
        // The bhyve form's default is bhyve's 256M.
        var bhyve = await ProcessRunner.RunAsync(Repo.Binary, ["config", "print", "-b", "k", "vm"]);
        Assert.Contains("\"mem_size_mib\": 256", bhyve.Stdout);
    }

    [Fact]
    public async Task Memory_above_the_hosts_is_refused_unless_overcommit()
    {
        await Refused(ExitCodes.Usage, "is more than this host's", "run", "--kernel", "/nonexistent/k", "-m", "1T");
        // With --overcommit the size is accepted and the run gets as far as the (missing) kernel.
        await Refused(ExitCodes.Usage, "kernel image /nonexistent/k", "run", "--kernel", "/nonexistent/k", "-m", "1T", "--overcommit");
    }

    [Fact]
    public async Task Machine_file_errors_name_path_line_column_and_type()
    {
        await Refused(ExitCodes.Usage, ":1:2: serial: unknown field (the fields at the top level are", "run", "--config", Write("a.json", """{"serial":"x"}"""));
        await Refused(ExitCodes.Usage, ":2:21: machine-config.queues: unknown field", "run", "--config",
            Write("b.json", "{\"boot-source\":{\"kernel_image_path\":\"k\"},\n \"machine-config\": {\"queues\":2}}"));
        await Refused(ExitCodes.Usage, ":3:2: boot-source: the field is given twice (lines 2 and 3)", "run", "--config",
            Write("c.json", "{\n \"boot-source\":{\"kernel_image_path\":\"k\"},\n \"boot-source\":{}}"));
        await Refused(ExitCodes.Usage, ":2:10: not valid JSON at '}'", "run", "--config", Write("d.json", "{\"boot-source\":{\"kernel_image_path\":\"k\"},\n \"name\": }"));
        await Refused(ExitCodes.Usage, "machine-config.vcpu_count 0 is out of range (1..64)", "run", "--config",
            Write("e.json", """{"boot-source":{"kernel_image_path":"k"}, "machine-config": {"vcpu_count":0}}"""));
        await Refused(ExitCodes.Usage, "machine-config.vcpu_count: expected a whole number, not a string", "run", "--config",
            Write("f.json", """{"boot-source":{"kernel_image_path":"k"}, "machine-config": {"vcpu_count":"two"}}"""));
        // Relative to the file's directory, not to where bhyve-aot runs.
        await Refused(ExitCodes.Usage, $"kernel image {_dir}/here.elf: no such file", "run", "--config", Write("g.json", """{"boot-source":{"kernel_image_path":"here.elf"}}"""));
    }

    [Fact]
    public async Task The_bhyve_form_reads_k_files_and_o_variables_and_lists_what_it_emulates()
    {
        string conf = Write("vm.conf", "# bhyve_config(5)\nname=filevm\ncpus=2\nmemory.size=128\nkernel=k\npci.0.2.0.device=nvme\npci.0.2.0.ram=64\n");
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["config", "print", "-k", conf, "-o", "cpus=3"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var m = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("filevm", m.GetProperty("name").GetString());
        Assert.Equal(3, m.GetProperty("machine-config").GetProperty("vcpu_count").GetInt32());
        Assert.Equal(128, m.GetProperty("machine-config").GetProperty("mem_size_mib").GetInt32());
        Assert.Equal(2, m.GetProperty("nvme")[0].GetProperty("pci_slot").GetInt32());
        var slots = await ProcessRunner.RunAsync(Repo.Binary, ["-s", "help"]);
        Assert.True(slots.ExitCode == 0 && slots.Stdout.Split('\n').Contains("virtio-blk"), slots.ToString());
        var lpc = await ProcessRunner.RunAsync(Repo.Binary, ["-l", "help"]);
        Assert.True(lpc.ExitCode == 0 && lpc.Stdout.Split('\n').Contains("com1"), lpc.ToString());
        // Harmless bhyve switches change nothing.
        var plain = await ProcessRunner.RunAsync(Repo.Binary, ["config", "print", "-b", "k", "vm"]);
        var flags = await ProcessRunner.RunAsync(Repo.Binary, ["config", "print", "-aACDHPSuWwxY", "-U", "uuid", "-b", "k", "vm"]);
        Assert.Equal(plain.Stdout, flags.Stdout);
    }

    [Fact]
    public async Task Check_json_is_snake_case_with_schema_and_version()
    {
        var r = await ProcessRunner.RunAsync(Repo.Binary, ["check", "--json"], TimeSpan.FromSeconds(60));
        var root = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("bhyve-aot/check/1", root.GetProperty("schema").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));
        Assert.Equal(r.ExitCode == 0, root.GetProperty("can_run_vms").GetBoolean());
        foreach (var p in root.EnumerateObject()) Assert.Equal(p.Name.ToLowerInvariant(), p.Name);
    }
}
