using Bhyve.Aot.Cli;
using Bhyve.Aot.Config;
using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>Every example --help shows parses into a valid machine, and the help texts show them with the exit status table.</summary>
[Collection(ConsoleCollection.Name)]
public class HelpExamplesTests
{
    public static TheoryData<string[]> Examples()
    {
        var data = new TheoryData<string[]>();
        foreach (var e in HelpExamples.Bhyve.Concat(HelpExamples.Run)) data.Add(["config", "print", .. e]);
        foreach (var e in HelpExamples.ConfigPrint) data.Add(e);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Each_example_parses_into_a_valid_machine(string[] args)
    {
        // Machine files are named relative to the repository root, as the README says to run them.
        string[] resolved = args.Select((a, i) => i > 0 && args[i - 1] == "--config" ? Path.Combine(Repo.Root, a) : a).ToArray();
        var r = CliCapture.Run(() => Program.Main(resolved));
        Assert.True(r.Code == 0 && r.Stderr == "", r.ToString());
        var machine = MachineFileReader.Parse(r.Stdout, "printed");
        machine.Validate();
    }

    [Theory]
    [InlineData(new[] { "--help" }, "Bhyve")]
    [InlineData(new[] { "-h" }, "Bhyve")]
    [InlineData(new[] { "-c", "2", "-h" }, "Bhyve")]
    [InlineData(new[] { "run", "--help" }, "Run")]
    [InlineData(new[] { "config", "print", "--help" }, "ConfigPrint")]
    public void Help_shows_its_examples_and_the_exit_status_table(string[] args, string set)
    {
        var examples = set switch { "Bhyve" => HelpExamples.Bhyve, "Run" => HelpExamples.Run, _ => HelpExamples.ConfigPrint };
        var r = CliCapture.Run(() => Program.Main(args));
        Assert.True(r.Code == 0 && r.Stderr == "", r.ToString());
        foreach (string line in HelpExamples.Format(examples).Split('\n')) Assert.Contains(line, r.Stdout);
        Assert.Contains("Exit status:", r.Stdout);
        Assert.Contains($"{ExitCodes.Usage}      bad command line", r.Stdout);
    }

    [Fact]
    public void Root_help_documents_the_bhyve_form()
    {
        var r = CliCapture.Run(() => Program.Main(["--help"]));
        foreach (string word in new[] { "-s SLOT,EMUL", "hostbridge", "virtio-blk", "nvme", "-l com1,stdio", "-b KERNEL", "-k FILE", "-o NAME=VALUE", "VMNAME", "rebooted", "config print" })
            Assert.Contains(word, r.Stdout);
    }

    [Fact]
    public void Examples_are_quoted_for_a_shell()
    {
        Assert.Equal("Examples:\n  bhyve-aot -t \"a b\" -b k.elf vm", HelpExamples.Format([["-t", "a b", "-b", "k.elf", "vm"]]));
    }
}
