using System.CommandLine;
using Bhyve.Aot.Cli;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>
/// The CLI in-process, for inputs that are refused before any VM exists: exit status 2 and exactly one
/// line on stderr, prefixed "bhyve-aot: ", with nothing on stdout (no help dump, no stack trace).
/// </summary>
[Collection(ConsoleCollection.Name)]
public class ProgramParsingTests
{
    // A kernel path that cannot exist, so a test that got past parsing could never boot anything.
    private const string Missing = "/nonexistent/bhyve-aot-test/kernel.elf";

    /// <summary>The root exactly as Program.Main builds it.</summary>
    private static RootCommand Root() => Program.Root();

    private static (int Code, string Stdout, string Stderr) Capture(Func<int> run)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return (run(), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    public static TheoryData<string[], string> Refused => new()
    {
        { ["run", "--kernel", Missing, "--memory", "lots"], "'lots' is not a size" },
        { ["run", "--kernel", Missing, "--cpus", "0"], "--cpus 0 is out of range" },
        { ["run", "--kernel", Missing, "--cpus", "999"], "--cpus 999 is out of range" },
        { ["run", "--kernel", Missing, "--cpus", "many"], "many" },
        { ["run", "--memory", "64M"], "--kernel" },
        { ["run", "--kernel", Missing, "--frobnicate"], "--frobnicate" },
        { ["run", "--kernel", Missing], "kernel image /nonexistent/bhyve-aot-test/kernel.elf: the directory /nonexistent does not exist" },
        { ["run", "--kernel", Missing, "--memory", "1M"], "--memory 1M: memory must be at least 4 MiB" },
        // Today the first error is "Required command was not provided."; naming frob would be kinder.
        { ["frob"], "unknown command 'frob' (commands: run, check, config, bench)" },
        { ["run", "--kernal", Missing], "run: unknown option '--kernal' (did you mean --kernel?)" },
        { ["run", "--kernel", Missing, "--memroy", "1G"], "(did you mean --memory?)" },
        { ["chekc"], "unknown command 'chekc' (did you mean check?)" },
        { ["run", "--kernel", Missing, "--cpus", "two"], "--cpus: 'two' is not a number of vCPUs (1..64)" },
        { ["bench", "storage"], "bench storage: --disk is required; see `bhyve-aot bench storage --help`" },
        { ["bench"], "bench: give a command: storage" },
        { ["run", "--kernel", "/dev/zero"], "kernel image /dev/zero: is not a regular file (a character device)" },
        { ["run", "--kernel", "/tmp"], "kernel image /tmp: is a directory" },
        { ["run", "--kernel", "a\nb"], "kernel image a\\nb: no such file" },
        { ["run", "--config", "/dev/zero"], "machine file /dev/zero: is not a regular file (a character device)" },
        { ["run", "--config", "/tmp"], "machine file /tmp: is a directory" },
        { ["run", "--cpus", "2"], "no kernel given (--kernel PATH or --config FILE)" },
        { ["run", "--config", "/nonexistent/vm.json"], "machine file /nonexistent/vm.json: the directory /nonexistent does not exist" },
        { ["run", "--config", "/nonexistent/vm.json", "--memory", "1G"], "--config gives the whole machine; --memory cannot be added to it" },
        { ["run", "--config", "/nonexistent/vm.json", "--kernel", Missing], "--kernel cannot be added" },
        { ["run", "--config", "/nonexistent/vm.json", "--", "arg"], "put unikernel arguments in its hvt.args" },
        { ["run", "--kernel", Missing, "--disk", "a.img,slot=0"], "--disk slot=0: expected 1..31" },
        { ["run", "--kernel", Missing, "--disk", "a.img,slot=4", "--nvme", "ram=8M,slot=4"], "PCI slot 4 is given twice" },
        { ["run", "--kernel", Missing, "--name", "a/b"], "VM name 'a/b'" },
    };

    /// <summary>Forms Program.Main reads before System.CommandLine sees them: the bhyve form and `config print`.</summary>
    public static TheoryData<string[], string> RefusedByMain => new()
    {
        // The bhyve form: refused before anything runs, with the same one-line shape.
        { ["config", "print"], "config print: give the machine as you would run it" },
        { ["config", "print", "frob"], "config print: 'frob' is not a machine" },
        { ["config", "print", "-s", "0,hostbridge", "-s", "9,hostbridge", "-b", "k", "vm"], "-s 9,hostbridge: the host bridge sits at slot 0" },
        { ["config", "print", "run", "--kernel", "k", "--frob"], "--frob" },
    };

    /// <summary>The bhyve form: one line, and bhyve(8)'s status 4, "exited due to an error".</summary>
    public static TheoryData<string[], string> RefusedInTheBhyveForm => new()
    {
        { ["-s", "3,virtio-net,tap0", "-b", Missing, "vm"], "-s 3,virtio-net: bhyve-aot does not emulate virtio-net" },
        { ["-s", "3,nvme,a.img,frob=1", "-b", Missing, "vm"], "-s 3,nvme: unknown option 'frob'" },
        { ["-b", Missing], "no VM name" },
        { ["-b", Missing, "myvm"], "myvm: kernel image /nonexistent/bhyve-aot-test/kernel.elf: the directory /nonexistent does not exist" },
        { ["-k", Missing, "myvm"], "-k /nonexistent/bhyve-aot-test/kernel.elf: the directory /nonexistent does not exist" },
        { ["--frobnicate"], "unknown option --frobnicate" },
    };

    [Theory]
    [MemberData(nameof(RefusedInTheBhyveForm))]
    public void Main_refuses_the_bhyve_form_with_bhyves_status_4_and_one_line(string[] args, string messagePart)
    {
        var (code, stdout, stderr) = Capture(() => Program.Main(args));
        AssertOneLineError(ExitCodes.Bhyve.Error, code, stdout, stderr, messagePart);
    }

    [Theory]
    [InlineData("bench storage --help")]
    [InlineData("bench storage -h")]
    [InlineData("bench storage -?")]
    [InlineData("bench storage --disk 2G --help")]
    [InlineData("run --help")]
    [InlineData("run --kernel k --cpus two --help")]
    [InlineData("check --help")]
    public void Help_is_always_reachable(string commandLine)
    {
        string[] args = commandLine.Split(' ');
        var (code, stdout, stderr) = Capture(() => Program.Main(args));
        Assert.True(code == 0 && stderr == "", stderr);
        Assert.Contains("Usage:", stdout);
    }

    [Fact]
    public void Bhyve_aot_alone_prints_a_short_usage_and_where_to_look()
    {
        var (code, stdout, stderr) = Capture(() => Program.Main([]));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", stdout);
        Assert.Contains("usage: bhyve-aot run --kernel FILE", stderr);
        Assert.Contains("`bhyve-aot --help`", stderr);
        Assert.True(stderr.Split('\n').Length < 10);
    }

    [Fact]
    public void Per_command_help_shows_only_what_applies()
    {
        var config = Capture(() => Program.Main(["config", "print", "--help"])).Stdout;
        Assert.DoesNotContain("triple-faulted", config);
        Assert.DoesNotContain("debug-exit", config);
        var run = Capture(() => Program.Main(["run", "--help"])).Stdout;
        Assert.Contains("triple-faulted", run);
        Assert.Contains("[default: 64M]", run);
        Assert.DoesNotContain("67108864", run);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Invoke_refuses_with_status_2_and_one_line(string[] args, string messagePart)
    {
        var (code, stdout, stderr) = Capture(() => Program.Invoke(Root(), args));
        AssertOneLineUsageError(code, stdout, stderr, messagePart);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Main_refuses_with_status_2_and_one_line(string[] args, string messagePart)
    {
        var (code, stdout, stderr) = Capture(() => Program.Main(args));
        AssertOneLineUsageError(code, stdout, stderr, messagePart);
    }

    [Theory]
    [MemberData(nameof(RefusedByMain))]
    public void Main_refuses_other_forms_with_status_2_and_one_line(string[] args, string messagePart)
    {
        var (code, stdout, stderr) = Capture(() => Program.Main(args));
        AssertOneLineUsageError(code, stdout, stderr, messagePart);
    }

    [Fact]
    public void Fail_prefixes_the_program_name()
    {
        var (code, _, stderr) = Capture(() => Program.Fail(42, "something broke"));
        Assert.Equal(42, code);
        Assert.Equal($"bhyve-aot: something broke{Environment.NewLine}", stderr);
    }

    private static void AssertOneLineUsageError(int code, string stdout, string stderr, string messagePart) =>
        AssertOneLineError(ExitCodes.Usage, code, stdout, stderr, messagePart);

    private static void AssertOneLineError(int expected, int code, string stdout, string stderr, string messagePart)
    {
        Assert.True(expected == code, $"exit {code}: {stderr}");
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string line = Assert.Single(lines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(messagePart, line);
        Assert.DoesNotContain("   at ", stderr);
    }
}
