using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Cli;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>solo5-hvt's command line as hvt_main.c and its block, net and dumpcore modules read it, and their refusals.</summary>
public class Solo5HvtCommandLineTests
{
    private static readonly Solo5Manifest Manifest = Solo5Manifest.Parse(Solo5Notes.ManifestDescriptor(("storage", 1), ("service0", 2)));

    [Theory]
    [InlineData(new[] { "k.hvt" }, Solo5HvtCommandLine.FirstPass.Kernel, 0)]
    [InlineData(new[] { "--mem=2", "k.hvt", "--help" }, Solo5HvtCommandLine.FirstPass.Kernel, 1)]  // after KERNEL: the unikernel's
    [InlineData(new[] { "--mem=2", "--", "k.hvt" }, Solo5HvtCommandLine.FirstPass.Kernel, 2)]
    [InlineData(new[] { "--", "--odd-name.hvt" }, Solo5HvtCommandLine.FirstPass.Kernel, 1)]
    [InlineData(new[] { "--mem=2", "--help", "k.hvt" }, Solo5HvtCommandLine.FirstPass.Help, -1)]
    [InlineData(new[] { "--version" }, Solo5HvtCommandLine.FirstPass.Version, -1)]
    [InlineData(new[] { "--mem=2" }, Solo5HvtCommandLine.FirstPass.MissingKernel, -1)]
    [InlineData(new[] { "--mem=2", "--" }, Solo5HvtCommandLine.FirstPass.MissingKernel, -1)]
    public void The_first_pass_finds_the_kernel_or_a_terminal_option(string[] args, Solo5HvtCommandLine.FirstPass expected, int kernel)
    {
        Assert.Equal(expected, Solo5HvtCommandLine.Scan(args, out int index));
        Assert.Equal(kernel, index);
    }

    [Fact]
    public void Options_before_the_kernel_attach_devices_by_manifest_name_and_the_rest_go_to_the_unikernel()
    {
        string[] args = ["--mem=4096", "--block:storage=/tmp/a.img", "--block-sector-size:storage=4096", "--net:service0=tap100",
            "--net-mac:service0=02:00:0a:0b:0c:0d", "--dumpcore=/tmp", "--", "k.hvt", "--solo5:quiet", "x"];
        Solo5HvtCommandLine.Scan(args, out int kernel);
        var o = Solo5HvtCommandLine.ParseOptions(args, kernel, Manifest, out var refusal);
        Assert.Null(refusal);
        Assert.Equal(4096UL << 20, o.MemoryBytes);
        Assert.Equal("/tmp/a.img", o.Blocks["storage"]);
        Assert.Equal(4096, o.BlockSizes["storage"]);
        Assert.Equal("tap100", o.Nets["service0"]);
        Assert.Equal(0x02_00_0a_0b_0c_0dUL, o.Macs["service0"]);
        Assert.Equal("/tmp", o.DumpCoreDirectory);
        Assert.Equal(["--solo5:quiet", "x"], o.GuestArgs);
    }

    [Theory]
    [InlineData("--block-sector-size:storage=521", "Block size must be a multiple of 2 greater than or equal 512")]
    [InlineData("--block-sector-size:storage=256", "Block size must be a multiple of 2 greater than or equal 512")]
    [InlineData("--block-sector-size:storage=131072", "Block size must be a multiple of 2 greater than or equal 512")]
    [InlineData("--block:other=/tmp/a.img", "Resource not declared in manifest: 'other'")]
    [InlineData("--block:service0=/tmp/a.img", "Resource not declared in manifest: 'service0'")]   // declared, but as NET_BASIC
    [InlineData("--net:storage=tap0", "Resource not declared in manifest: 'storage'")]
    [InlineData("--net-mac:service0=02:00:0a:0b:0c", null)]
    [InlineData("--block:bad_name=/tmp/a.img", null)]   // solo5-hvt's scanf set for a name is [A-Za-z0-9]
    [InlineData("--frobnicate", null)]
    public void A_bad_option_gives_solo5_hvts_warning_then_invalid_option_and_usage(string option, string? warning)
    {
        string[] args = [option, "k.hvt"];
        Solo5HvtCommandLine.ParseOptions(args, 1, Manifest, out var refusal);
        Assert.NotNull(refusal);
        Assert.True(refusal.WithUsage);
        Assert.Equal(warning is null ? [$"Invalid option: `{option}'"] : [warning, $"Invalid option: `{option}'"], refusal.Lines);
    }

    [Theory]
    [InlineData("--mem=0")]
    [InlineData("--mem=-5")]
    [InlineData("--mem=lots")]
    [InlineData("--mem=")]
    public void A_malformed_memory_size_is_refused_without_usage(string option)
    {
        Solo5HvtCommandLine.ParseOptions([option, "k.hvt"], 1, Manifest, out var refusal);
        Assert.Equal(new[] { "Malformed argument to --mem" }, refusal!.Lines);
        Assert.False(refusal.WithUsage);
    }

    [Theory]
    [InlineData(2UL << 20, 2UL << 20, null, null)]
    [InlineData(1UL << 20, 2UL << 20, "adjusting memory to 2097152 bytes", null)]        // rounded up to one page
    [InlineData(5UL << 20, 4UL << 20, "adjusting memory to 4194304 bytes", null)]        // down to whole 2 MiB pages
    [InlineData(4096UL << 20, 4096UL << 20, null, null)]
    [InlineData(4098UL << 20, 4098UL << 20, null, "guest memory size 4297064448 bytes exceeds the max size 4294967296 bytes")]
    public void Memory_is_adjusted_and_limited_as_solo5_hvt_does(ulong requested, ulong expected, string? warning, string? refusal)
    {
        Assert.Equal(expected, Solo5HvtCommandLine.AdjustMemory(requested, out string? w, out string? r));
        Assert.Equal(warning, w);
        Assert.Equal(refusal, r);
    }

    [Fact]
    public void Declared_devices_left_unattached_are_named_one_line_each()
    {
        var o = Solo5HvtCommandLine.ParseOptions(["k.hvt"], 0, Manifest, out _);
        Assert.Equal(["Device 'storage' of type BLOCK_BASIC declared but not attached.", "Device 'service0' of type NET_BASIC declared but not attached."],
            Solo5HvtCommandLine.Unattached(Manifest, o));
    }

    [Theory]
    [InlineData("/usr/local/bin/solo5-hvt", new[] { "--mem=2", "k" }, new[] { "--mem=2", "k" })]
    [InlineData("/opt/bhyve-aot", new[] { "solo5-hvt", "--mem=2", "k" }, new[] { "--mem=2", "k" })]
    [InlineData("/opt/bhyve-aot", new[] { "run", "--kernel", "k" }, null)]
    public void The_verb_or_the_program_name_selects_solo5_hvts_command_line(string argv0, string[] args, string[]? expected) =>
        Assert.Equal(expected, Solo5HvtCommand.ArgumentsOf(argv0, args));
}
