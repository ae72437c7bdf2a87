namespace Bhyve.Aot.Cli;

/// <summary>
/// The examples printed by --help, as argument vectors, so the tests can run every one of them through the parser
/// (HelpExamplesTests) and the help can never show a command line that does not parse.
/// </summary>
public static class HelpExamples
{
    public static readonly string[][] Bhyve =
    [
        ["-c", "2", "-m", "512M", "-s", "0,hostbridge", "-s", "2,virtio-blk,disk.img,discard", "-s", "3,nvme,data.img,dsm=enable",
         "-l", "com1,stdio", "-b", "vmlinux", "-t", "console=ttyS0", "myvm"],
        ["-AHP", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-b", "native/guest/build/hello.elf", "-t", "exit=3", "hello"],
        ["-c", "cpus=4,sockets=2,cores=2", "-m", "1G", "-s", "0,hostbridge", "-s", "4:0,virtio-blk,disk.img,ro,nocache,ser=BHYVE1",
         "-s", "5,nvme,ram=256,maxq=4,qsz=256,sectsz=4096", "-b", "vmlinux", "vm1"],
    ];

    public static readonly string[][] Run =
    [
        ["run", "--kernel", "native/guest/build/hello.elf", "--memory", "64M", "--cmdline", "exit=3"],
        ["run", "--kernel", "native/guest/build/blk-selftest.elf", "--memory", "128M", "--disk", "path=disk.img,size=64M,create", "--stats"],
        ["run", "--kernel", "vmlinux", "--cpus", "2", "--memory", "512M", "--disk", "path=disk.img,discard=unmap,slot=2",
         "--nvme", "path=data.img,dsm=enable,slot=3", "--cmdline", "console=ttyS0", "--name", "myvm"],
        ["run", "--config", "examples/hello.json"],
    ];

    public static readonly string[][] ConfigPrint =
    [
        ["config", "print", "run", "--config", "examples/blk.json"],
        ["config", "print", "run", "--kernel", "native/guest/build/hello.elf", "--disk", "disk.img,readonly"],
        ["config", "print", "-s", "0,hostbridge", "-s", "2,virtio-blk,disk.img", "-b", "native/guest/build/hello.elf", "myvm"],
    ];

    /// <summary>"Examples:" and one shell-quoted command line per example.</summary>
    public static string Format(string[][] examples) =>
        "Examples:\n" + string.Join("\n", examples.Select(e => "  bhyve-aot " + string.Join(' ', e.Select(Quote))));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_.,:=/+@%".Contains(c)) ? word : $"\"{word}\"";
}
