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
        { ["run", "--kernel", Missing], "no such file" },
        { ["run", "--kernel", Missing, "--memory", "1M"], "--memory 1M: memory must be at least 4 MiB" },
        // Today the first error is "Required command was not provided."; naming frob would be kinder.
        { ["frob"], "command" },
        { ["run", "--cpus", "2"], "no kernel given (--kernel PATH or --config FILE)" },
        { ["run", "--config", "/nonexistent/vm.json"], "machine file /nonexistent/vm.json: no such file" },
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
        { ["-s", "3,virtio-net,tap0", "-k", Missing, "vm"], "-s 3,virtio-net: bhyve-aot does not emulate virtio-net" },
        { ["-s", "3,nvme,a.img,frob=1", "-k", Missing, "vm"], "-s 3,nvme: unknown option 'frob'" },
        { ["-k", Missing], "no VM name" },
        { ["-k", Missing, "myvm"], "myvm: kernel image /nonexistent/bhyve-aot-test/kernel.elf: no such file" },
        { ["--frobnicate"], "unknown option --frobnicate" },
        { ["config", "print"], "config print: give the machine as you would run it" },
        { ["config", "print", "frob"], "config print: 'frob' is not a machine" },
        { ["config", "print", "-s", "0,hostbridge", "-s", "9,hostbridge", "-k", "k", "vm"], "-s 9,hostbridge: the host bridge sits at slot 0" },
        { ["config", "print", "run", "--kernel", "k", "--frob"], "--frob" },
    };

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

    private static void AssertOneLineUsageError(int code, string stdout, string stderr, string messagePart)
    {
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string line = Assert.Single(lines);
        Assert.StartsWith("bhyve-aot: ", line);
        Assert.Contains(messagePart, line);
        Assert.DoesNotContain("   at ", stderr);
    }
}
