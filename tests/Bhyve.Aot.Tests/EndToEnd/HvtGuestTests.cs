using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// The hvt test guests (native/guest/hvt) on the published binary, as solo5-hvt would run them: console output,
/// exit status, block device contents on the host, faults ending with status 1 and one clear line, and the
/// command-line rules (devices by manifest name, all declared devices attached). They run at CPL0, so under nested
/// KVM they execute in KVM's instruction emulator; they are kept to a few thousand instructions.
/// </summary>
public sealed class HvtGuestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-hvt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Hello_prints_its_arguments_and_exits_with_the_status_it_halts_with()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-hello.elf"), "--", "exit=7", "two  words");

        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal("Hello from a Solo5 hvt unikernel\ncmdline: exit=7 two  words\nmemory: 64 MiB\nwalltime: ok\n", r.Stdout);
        Assert.Equal(7, r.ExitCode);
    }

    [Theory]
    [InlineData("exit=0", 0)]
    [InlineData("exit=2", 2)]     // the guest's own status, even where it matches one of ours (solo5-hvt compatible)
    [InlineData("exit=200", 200)]
    [InlineData("exit=256", 0)]   // the low 8 bits, as a process status
    public async Task Exit_status_is_the_halt_status(string arg, int status)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-hello.elf"), "--memory", "32M", "--", arg);
        Assert.True(r.Stderr == "", r.ToString());
        Assert.Contains("memory: 32 MiB\n", r.Stdout);
        Assert.Equal(status, r.ExitCode);
    }

    [Fact]
    public async Task Blk_writes_reads_and_copies_blocks_of_the_named_device()
    {
        string disk = Path.Combine(_dir, "storage.img");
        var image = new byte[64 * 1024];
        var block1 = ElfBuilder.Pattern(512, 9);
        block1.CopyTo(image, 512);
        image.AsSpan(4096, 4096).Fill(0x5A);
        File.WriteAllBytes(disk, image);

        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-blk.elf"), "--block-device", $"storage={disk}");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("blk: capacity 65536 block 512\nblk: ok\n", r.Stdout);
        var after = File.ReadAllBytes(disk);
        Assert.Equal(image.Length, after.Length);
        for (int i = 0; i < 512; i++)
        {
            Assert.Equal((byte)(i * 7 + 1), after[i]);                         // block 0: the guest's pattern
            Assert.Equal((byte)(i * 7 + 127 * 13 + 1), after[65024 + i]);      // last block (127)
            Assert.Equal((byte)(block1[i] + 1), after[1024 + i]);              // block 2: block 1 plus one
        }
        Assert.Equal(block1, after.AsSpan(512, 512).ToArray());                // block 1 only read
        Assert.True(after.AsSpan(4096, 4096).IndexOfAnyExcept((byte)0x5A) < 0, "untouched blocks changed");
    }

    [Fact]
    public async Task A_declared_device_left_unattached_is_refused_like_solo5_hvt()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-blk.elf"));
        AssertRefused(r, "device 'storage' of type BLOCK_BASIC declared but not attached", "--block-device storage=PATH");
    }

    [Fact]
    public async Task A_device_the_manifest_does_not_declare_is_refused()
    {
        string disk = Path.Combine(_dir, "d.img");
        File.WriteAllBytes(disk, new byte[4096]);
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-blk.elf"), "--block-device", $"storage={disk}", "--block-device", $"other={disk}");
        AssertRefused(r, "resource not declared in manifest: 'other'");
        r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-blk.elf"), "--net-device", "storage=tap0");
        AssertRefused(r, "declares 'storage' as BLOCK_BASIC, not NET_BASIC");
    }

    [Theory]
    [InlineData(0, "storage: Backing storage must be at least 1 block (512 bytes) in size")]
    [InlineData(1000, "storage: Backing storage size must be block aligned (512 bytes)")]
    public async Task A_backing_file_solo5_hvt_would_refuse_is_refused(int size, string message)
    {
        string disk = Path.Combine(_dir, "small.img");
        File.WriteAllBytes(disk, new byte[size]);
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-blk.elf"), "--block-device", $"storage={disk}");
        AssertRefused(r, message);
        Assert.Equal(size, new FileInfo(disk).Length);
    }

    [Theory]
    [InlineData("data", "invalid guest access in hypercall Puts: gpa=0x4001000, sz=16")]
    [InlineData("struct", "invalid guest access in hypercall Puts: gpa=0xfffff000")]
    [InlineData("rodata", "hypercall Walltime", "read-only memory")]
    public async Task A_bad_hypercall_pointer_ends_the_run_with_status_1(string mode, params string[] message)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-badptr.elf"), "--", mode);
        AssertFault(r, "badptr: before\n", message);
    }

    [Fact]
    public async Task Abort_halts_with_255_like_solo5_abort()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-abort.elf"));
        Assert.True(r.Stderr == "", r.ToString());
        Assert.Equal("abort: solo5_abort\n", r.Stdout);
        Assert.Equal(255, r.ExitCode);
    }

    [Theory]
    [InlineData("ro", "abort: writing to text\n", "read-only memory at 0x1000")]
    [InlineData("port", "abort: port 0x80\n", "invalid guest port access: port=0x80")]
    [InlineData("hypercall", "abort: hypercall 0\n", "invalid guest hypercall: num=0")]
    [InlineData("blk", "abort: block hypercall without a block device\n", "invalid guest hypercall: num=5")]
    public async Task Guest_faults_end_the_run_with_status_1(string mode, string output, string message)
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-abort.elf"), "--", mode);
        AssertFault(r, output, message);
    }

    [Theory]
    [InlineData(new[] { "--memory", "33M" }, "--memory 33M: a Solo5 hvt guest needs memory in whole 2 MiB pages")]
    [InlineData(new[] { "--memory", "6G" }, "at most 4096 MiB")]
    [InlineData(new[] { "--cpus", "2" }, "runs on one vCPU")]
    [InlineData(new[] { "--cmdline", "x" }, "takes its arguments after --")]
    [InlineData(new[] { "--disk", "path=/dev/null" }, "--disk: a Solo5 hvt unikernel has no PCI")]
    [InlineData(new[] { "--nvme", "ram=1M" }, "--nvme: a Solo5 hvt unikernel has no PCI")]
    public async Task Options_an_hvt_guest_cannot_take_are_refused(string[] options, string message)
    {
        var r = await ProcessRunner.RunBhyveAsync(["run", "--kernel", Repo.Guest("hvt-hello.elf"), .. options]);
        AssertRefused(r, message);
    }

    [Theory]
    [InlineData(new[] { "--block-device", "disk=/dev/null" }, "--block-device is for Solo5 hvt unikernels")]
    [InlineData(new[] { "--net-device", "net=tap0" }, "--net-device is for Solo5 hvt unikernels")]
    [InlineData(new[] { "--", "exit=1" }, "arguments after -- are for Solo5 hvt unikernels")]
    public async Task Hvt_options_on_a_PVH_kernel_are_refused(string[] options, string message)
    {
        var r = await ProcessRunner.RunBhyveAsync(["run", "--kernel", Repo.Guest("hello.elf"), .. options]);
        AssertRefused(r, message, "is a PVH kernel");
    }

    [Fact]
    public async Task Stats_count_the_hypercalls()
    {
        var r = await ProcessRunner.RunBhyveAsync("run", "--kernel", Repo.Guest("hvt-hello.elf"), "--stats", "--", "exit=3");
        Assert.Equal(3, r.ExitCode);
        // hvt-hello: puts for each piece of text, one walltime, and the halt.
        Assert.Contains("bhyve-aot: hvt hypercalls: walltime 1, puts 7, poll 0, blockwrite 0, blockread 0, netwrite 0, netread 0, halt 1", r.Stderr);
    }

    [Theory]
    [InlineData(2u, 1u, "a Solo5 unikernel built for the spt target: bhyve-aot runs only hvt unikernels")]
    [InlineData(1u, 7u, "requests hvt ABI version 7")]
    public async Task A_Solo5_image_we_cannot_run_is_refused_naming_what_it_is(uint target, uint version, string message)
    {
        string path = Path.Combine(_dir, "other.elf");
        File.WriteAllBytes(path, Solo5Notes.HvtImage(abiNote: Solo5Notes.AbiNote(target, version)).Build());
        AssertRefused(await ProcessRunner.RunBhyveAsync("run", "--kernel", path), message);
    }

    [Fact]
    public async Task An_hvt_image_with_a_malformed_manifest_is_refused()
    {
        var manifest = Solo5Notes.ManifestDescriptor(("storage", 1));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(manifest.AsSpan(8), 65);
        string path = Path.Combine(_dir, "badmft.elf");
        File.WriteAllBytes(path, Solo5Notes.HvtImage(manifestNote: Solo5Notes.ManifestNote(manifest)).Build());
        AssertRefused(await ProcessRunner.RunBhyveAsync("run", "--kernel", path), "invalid Solo5 manifest: 65 entries (at most 64)");
    }

    private static void AssertRefused(ProcessResult r, params string[] parts)
    {
        Assert.True(r.ExitCode == ExitCodes.Usage, r.ToString());
        Assert.True(r.Stdout == "", r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: ", line);
        foreach (var p in parts) Assert.Contains(p, line);
    }

    private static void AssertFault(ProcessResult r, string stdout, params string[] parts)
    {
        Assert.True(r.ExitCode == ExitCodes.GuestFault, r.ToString());
        Assert.Equal(stdout, r.Stdout);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("bhyve-aot: hvt: ", line);
        foreach (var p in parts) Assert.Contains(p, line);
    }
}
