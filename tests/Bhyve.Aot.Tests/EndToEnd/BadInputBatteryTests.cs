using System.Text;
using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// Hundreds of bad command lines and corrupted inputs against the published binary, run in parallel: each one must
/// end with a non-zero documented status and exactly one line on stderr, with no stack trace, no .NET type name and
/// no "internal error". Nothing here needs KVM: every case is refused before a VM exists (or, without /dev/kvm, with
/// status 8, which is documented too).
/// </summary>
public sealed class BadInputBatteryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string Missing = "/nonexistent/bhyve-aot-battery/kernel.elf";
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-battery-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Statuses a refusal may have: ours (bad input, no KVM) and bhyve's "exited due to an error".</summary>
    private static readonly int[] Documented = [ExitCodes.Usage, ExitCodes.HostUnsupported, ExitCodes.Bhyve.Error];

    private const string ValidMachine = """
        {
          // a comment, as people write them
          "name": "battery",
          "boot-source": { "kernel_image_path": "/nonexistent/bhyve-aot-battery/kernel.elf", "boot_args": "exit=0" },
          "machine-config": { "vcpu_count": 1, "mem_size_mib": 64, "huge_pages": "None", "cpuid_hide": [ "avx" ] },
          "drives": [ { "drive_id": "d0", "path_on_host": "/nonexistent/d.img", "is_read_only": false, "queues": 1, "pci_slot": 2 } ],
          "nvme": [ { "drive_id": "n0", "ram_size": "8M", "queues": 2, "pci_slot": 3 } ],
        }
        """;

    private IEnumerable<string[]> CommandLines()
    {
        string[] run = ["run", "--kernel", Missing];
        // Values each run option refuses.
        foreach (string v in new[] { "two", "-1", "0", "65", "99999999999", "1.5", "", "0x2", "１" }) yield return [.. run, "--cpus", v];
        foreach (string v in new[] { "lots", "1M", "3", "-64M", "64X", "1.5G", "18446744073709551616B", "2T", "", "64 M", "0" }) yield return [.. run, "--memory", v];
        foreach (string v in new[] { "", "a.img,frob=1", "a.img,queues=0", "a.img,queues=17", "a.img,queue-size=100", "a.img,queue-size=0",
                     "a.img,discard=trim", "a.img,size=1G", "a.img,create", "a.img,create,size=1G,readonly", "a.img,slot=0", "a.img,slot=32",
                     "a.img,serial=123456789012345678901", "a.img,readonly=maybe", "path=", "a.img,size=100B,create", "/nonexistent-dir/x.img,size=64M,create" })
            yield return [.. run, "--disk", v];
        foreach (string v in new[] { "", "ram=0", "ram=7", "ram=8M,path=a", "a.img,sector-size=1024", "a.img,queues=65", "a.img,dsm=yes",
                     "ram=8M,readonly", "a.img,create", "frob", "a.img,queue-size=1" })
            yield return [.. run, "--nvme", v];
        foreach (string v in new[] { "frob", "xsave,", "avx,frob", "" }) yield return [.. run, "--cpuid-hide", v];
        foreach (string v in new[] { "a/b", "-x", ".hidden", new string('n', 65), "sp ace", "ü" }) yield return [.. run, "--name", v];
        foreach (string v in new[] { "nameonly", "=x", "a=", "bad name=x" }) yield return [.. run, "--block-device", v];
        yield return [.. run, "--cmdline", new string('x', 5000)];
        yield return [.. run, "--initrd", ""];
        yield return [.. run, "--initrd", "/nonexistent/initrd"];
        yield return [.. run, "--initrd", "/tmp"];
        yield return [.. run, "--initrd", "/dev/null"];
        foreach (string k in new[] { "/dev/zero", "/dev/null", "/tmp", "/", "/proc/self/mem", "a\nb", "a\tb\u0001", "/nonexistent/dir/k", "", "x\u2028y" })
            yield return ["run", "--kernel", k];
        // Typos, unknown commands and options, missing values.
        foreach (string[] a in new string[][]
                 {
                     ["frob"], ["runn"], ["chek"], ["config"], ["config", "frob"], ["bench"], ["bench", "storage"], ["bench", "frob"],
                     ["run"], ["run", "--kernal", "k"], ["run", "--kernel"], ["run", "--memory"], ["run", "--cpus"], ["run", "--stat"],
                     ["run", "--kernel", Missing, "--frobnicate"], ["run", "--kernel", Missing, "extra"], ["check", "--jsn"], ["check", "extra"],
                     ["config", "print"], ["config", "print", "frob"], ["config", "print", "run"], ["config", "print", "run", "--frob"],
                     ["run", "--config"], ["run", "--config", "/nonexistent/vm.json"], ["run", "--config", "/dev/zero"], ["run", "--config", "/tmp"],
                     ["run", "--config", "/nonexistent/vm.json", "--memory", "1G"], ["run", "--config", "/nonexistent/vm.json", "--", "x"],
                     ["bench", "storage", "--disk", "64M", "--duration", "fast"], ["bench", "storage", "--disk", "64M", "--device", "scsi"],
                     ["bench", "storage", "--disk", "64M", "--rounds", "two"], ["bench", "storage", "--disk", "64M", "--vs", "xen"],
                     ["bench", "storage", "--disk", "64M", "--cache", "maybe"], ["run", "--kernel", Missing, "--memory", "1T"],
                 })
            yield return a;
        // The bhyve form.
        string[] bhyve = ["-b", Missing];
        foreach (string[] a in new string[][]
                 {
                     ["-e"], ["-p", "0:1"], ["-G", "1234"], ["-f", "x,string=y"], ["-r", "snap"], ["-n", "0,1G,0"], ["-q"], ["-Z"], ["-c"], ["-m"],
                     ["-c", "0"], ["-c", "two"], ["-c", "cpus=2,sockets=3"], ["-c", "cpus=99"], ["-c", "frob=1"], ["-m", "lots"], ["-m", "1M"],
                     ["-m", "99999999999999999999"], ["-s", "x"], ["-s", "2"], ["-s", "2,"], ["-s", "2,virtio-net,tap0"], ["-s", "2,ahci-hd,a.img"],
                     ["-s", "2,frob"], ["-s", "40,virtio-blk,a.img"], ["-s", "1:2:0,virtio-blk,a.img"], ["-s", "2:1,virtio-blk,a.img"],
                     ["-s", "0,virtio-blk,a.img"], ["-s", "5,hostbridge"], ["-s", "0,hostbridge,x"], ["-s", "2,lpc,x"], ["-s", "2,virtio-blk"],
                     ["-s", "2,virtio-blk,a.img,frob"], ["-s", "2,virtio-blk,a.img,sync"], ["-s", "2,virtio-blk,a.img,sectorsize=4096"],
                     ["-s", "2,virtio-blk,a.img,ser=123456789012345678901"], ["-s", "2,virtio-blk,a.img,create"], ["-s", "2,nvme"],
                     ["-s", "2,nvme,ram=0"], ["-s", "2,nvme,a.img,eui64=1"], ["-s", "2,nvme,a.img,sectsz=8192"], ["-s", "2,nvme,a.img,maxq=0"],
                     ["-s", "2,nvme,a.img,qsz=1"], ["-s", "2,nvme,ram=8,ro"], ["-s", "2,virtio-blk,a.img", "-s", "2,nvme,b.img"],
                     ["-s", "0,hostbridge", "-s", "0,hostbridge"], ["-l", "com2,stdio"], ["-l", "com1,/dev/nmdm0A"], ["-l", "bootrom,x.fd"],
                     ["-l", "tpm,swtpm,/s"], ["-o", "novalue"], ["-o", "=x"], ["-o", "frob=1"], ["-o", "memory.size=lots"], ["-o", "cpus=0"],
                     ["-o", "x86.strictio=true"], ["-o", "gdb.port=1234"], ["-o", "acpi_tables=maybe"], ["-o", "lpc.bootrom=x.fd"],
                     ["-o", "lpc.com2.path=stdio"], ["-o", "lpc.com1.path=/dev/tty"], ["-o", "pci.1.2.0.device=nvme"], ["-o", "pci.0.2.1.device=nvme"],
                     ["-o", "pci.0.2.0.path=a.img"], ["-o", "pci.0.40.0.device=nvme"], ["-o", "pci.x.y"], ["-o", "name=%(missing)"],
                     ["-o", "a=%(b)", "-o", "b=%(a)"], ["-o", "config.dump=1"], ["-k", "/nonexistent/vm.conf"], ["-k", "/dev/zero"], ["-k", "/tmp"],
                     ["--frob"], ["--cpuid-hide"], ["--cpuid-hide", "frob"],
                 })
            yield return [.. bhyve, .. a, "vm"];
        yield return ["-b", Missing];
        yield return ["-s", "0,hostbridge", "vm"];
        yield return [.. bhyve, "vm", "extra"];
        yield return [.. bhyve, "bad/name"];
        yield return [.. bhyve, "myvm"];
    }

    /// <summary>Machine files and bhyve config files: truncated, bytes flipped, types swapped, fields doubled and misspelt.</summary>
    private IEnumerable<string[]> CorruptedFiles()
    {
        int n = 0;
        string Write(string text)
        {
            string path = Path.Combine(_dir, $"f{Interlocked.Increment(ref n)}.json");
            File.WriteAllText(path, text);
            return path;
        }
        byte[] valid = Encoding.UTF8.GetBytes(ValidMachine);
        for (int cut = 0; cut < valid.Length - 2; cut += 11) yield return ["run", "--config", Write(Encoding.UTF8.GetString(valid, 0, cut))];
        var random = new Random(20);
        for (int i = 0; i < 40; i++)
        {
            byte[] b = (byte[])valid.Clone();
            b[random.Next(b.Length)] = (byte)"{}[]\",:0x\\\n\u0001"[random.Next(13)];
            string path = Path.Combine(_dir, $"flip{i}.json");
            File.WriteAllBytes(path, b);
            yield return ["run", "--config", path];
        }
        foreach (var (from, to) in new[]
                 {
                     ("\"vcpu_count\": 1", "\"vcpu_count\": \"1\""), ("\"vcpu_count\": 1", "\"vcpu_count\": 0"), ("\"vcpu_count\": 1", "\"vcpu_count\": -1"),
                     ("\"vcpu_count\": 1", "\"vcpu_count\": 1e3"), ("\"mem_size_mib\": 64", "\"mem_size_mib\": 1"), ("\"mem_size_mib\": 64", "\"mem_size_mib\": \"64\""),
                     ("\"mem_size_mib\": 64", "\"mem_size_mib\": 64, \"mem_size\": \"64M\""), ("\"huge_pages\": \"None\"", "\"huge_pages\": \"1G\""),
                     ("[ \"avx\" ]", "\"avx\""), ("[ \"avx\" ]", "[ \"frob\" ]"), ("[ \"avx\" ]", "[ 1 ]"), ("\"is_read_only\": false", "\"is_read_only\": \"no\""),
                     ("\"queues\": 1", "\"queues\": 0"), ("\"pci_slot\": 2", "\"pci_slot\": 3"), ("\"pci_slot\": 2", "\"pci_slot\": 0"),
                     ("\"drive_id\": \"n0\"", "\"drive_id\": \"d0\""), ("\"ram_size\": \"8M\"", "\"ram_size\": \"lots\""), ("\"name\": \"battery\"", "\"name\": \"a/b\""),
                     ("\"name\": \"battery\"", "\"name\": \"battery\", \"name\": \"again\""), ("\"name\": \"battery\"", "\"serial\": \"x\""),
                     ("\"boot_args\": \"exit=0\"", "\"boot_args\": \"exit=0\", \"kernel\": \"x\""), ("\"drives\": [", "\"drives\": {"),
                     ("\"path_on_host\": \"/nonexistent/d.img\"", "\"path_on_host\": 5"), ("\"boot-source\"", "\"boot_source\""),
                     ("\"machine-config\": {", "\"machine-config\": { \"queues\": 2,"), ("{", "["), ("\"ram_size\": \"8M\"", "\"ram_size\": \"8M\", \"path_on_host\": \"a\""),
                 })
            yield return ["run", "--config", Write(ValidMachine.Replace(from, to))];
        yield return ["run", "--config", Write("")];
        yield return ["run", "--config", Write("null")];
        yield return ["run", "--config", Write("{}")];
        yield return ["run", "--config", Write("{} {}")];
        string binary = Path.Combine(_dir, "binary.json");
        File.WriteAllBytes(binary, [0xFF, 0xFE, 0x00, 0x7B]);
        yield return ["run", "--config", binary];
        string fifo = Path.Combine(_dir, "fifo");
        if (Mkfifo(fifo)) { yield return ["run", "--config", fifo]; yield return ["run", "--kernel", fifo]; yield return ["-k", fifo, "vm"]; }
        foreach (string conf in new[] { "cpus = 2", "memory.size", "=x", "frob=1", "memory.size=lots", "pci.0.2.0.device=virtio-net", "lpc.com1.path=/dev/x", "name=a/b" })
        {
            string path = Path.Combine(_dir, $"c{Interlocked.Increment(ref n)}.conf");
            File.WriteAllText(path, $"# config\nkernel={Missing}\n{conf}\n");
            yield return ["-k", path, "vm"];
        }
    }

    private static bool Mkfifo(string path)
    {
        try
        {
            using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    [Fact]
    public async Task Every_bad_input_gets_one_line_and_a_documented_status()
    {
        var cases = CommandLines().Concat(CorruptedFiles()).ToArray();
        Assert.True(cases.Length >= 200, $"only {cases.Length} cases");
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (args, _) =>
        {
            var r = await ProcessRunner.RunAsync(Repo.Binary, args, TimeSpan.FromSeconds(60));
            string shown = string.Join(' ', args.Select(a => a.Length > 60 ? a[..60] + "..." : a)).Replace("\n", "\\n");
            string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (!Documented.Contains(r.ExitCode)) failures.Add($"[{shown}] exit {r.ExitCode}: {r.Stderr}");
            else if (lines.Length != 1) failures.Add($"[{shown}] {lines.Length} lines on stderr: {r.Stderr}");
            else if (!lines[0].StartsWith("bhyve-aot: ", StringComparison.Ordinal)) failures.Add($"[{shown}] not our line: {lines[0]}");
            else if (lines[0].Contains("   at ") || lines[0].Contains("internal error") || lines[0].Contains("Exception") || lines[0].Contains("System."))
                failures.Add($"[{shown}] internals shown: {lines[0]}");
            else if (args.Length > 0 && args[0].StartsWith('-') && r.ExitCode != ExitCodes.Bhyve.Error)
                failures.Add($"[{shown}] the bhyve form refused with {r.ExitCode}, not bhyve's 4");
        });
        output.WriteLine($"{cases.Length} bad inputs, {cases.Length - failures.Count} refused as they should be");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Length} cases:\n" + string.Join('\n', failures.Order()));
    }
}
