using System.Runtime.InteropServices;
using Bhyve.Aot.Boot;
using Bhyve.Aot.Boot.Solo5;
using Bhyve.Aot.Devices.Hvt;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// `bhyve-aot solo5-hvt ARGS...`, or the binary run under the name solo5-hvt: a drop-in for Solo5's hvt tender.
/// The checks run in solo5-hvt's order with its sentences, each printed as "solo5-hvt: ..." on stderr with exit
/// status 1 (--version: 0); the unikernel then runs on bhyve-aot's hvt machine and the process exits with the
/// status it halts with, or 1 when it faults. SIGINT and SIGTERM end the run as they end solo5-hvt's:
/// "Exiting on signal N", status 1.
/// </summary>
public static class Solo5HvtCommand
{
    public const string Name = "solo5-hvt";
    private const int Refused = 1;
    private const long MaxImageBytes = 512L << 20;

    /// <summary>
    /// The solo5-hvt arguments of this invocation, or null when it is not solo5-hvt's: the binary run as solo5-hvt
    /// (argv[0]; then every argument is solo5-hvt's), or `bhyve-aot solo5-hvt ARGS...`.
    /// </summary>
    public static string[]? ArgumentsOf(string? argv0, string[] args) =>
        Path.GetFileName(argv0 ?? "") == Name ? args : args is [Name, .. var rest] ? rest : null;

    /// <summary>solo5-hvt's arguments (without the verb or argv[0]); returns the process exit status.</summary>
    public static int Run(string[] args)
    {
        switch (Solo5HvtCommandLine.Scan(args, out int kernelIndex))
        {
            case Solo5HvtCommandLine.FirstPass.Help:
                Console.Error.WriteLine(Solo5HvtCommandLine.Usage(Name));
                return Refused;
            case Solo5HvtCommandLine.FirstPass.Version:
                Console.Error.WriteLine($"{Name} tender (bhyve-aot {typeof(Solo5HvtCommand).Assembly.GetName().Version?.ToString(3)})");
                Console.Error.WriteLine($"ABI version {Solo5AbiNote.MaxHvtVersion} (and {Solo5AbiNote.MinHvtVersion})");
                return 0;
            case Solo5HvtCommandLine.FirstPass.MissingKernel:
                Warn("Missing KERNEL operand");
                Console.Error.WriteLine(Solo5HvtCommandLine.Usage(Name));
                return Refused;
        }

        string kernel = args[kernelIndex];
        if (ReadImage(kernel) is not { } file) return Refused;
        try
        {
            var elf = ElfImage.Parse(file);
            if (!elf.TryFindNote(file, Solo5AbiNote.NoteName, Solo5AbiNote.NoteType, out var abiBytes))
                return Fail($"{kernel}: No Solo5 ABI information found in executable");
            var abi = Solo5AbiNote.Parse(abiBytes);
            if (abi.Target != (uint)Solo5Target.Hvt) return Fail($"{kernel}: Executable is not for the solo5-hvt target");
            if (abi.Version is < Solo5AbiNote.MinHvtVersion or > Solo5AbiNote.MaxHvtVersion)
                return Fail($"{kernel}: Executable requests unsupported ABI version {abi.Version}");
            if (!elf.TryFindNote(file, Solo5Manifest.NoteName, Solo5Manifest.NoteType, out var mftBytes))
                return Fail($"{kernel}: No Solo5 manifest found in executable");
            var manifest = Solo5Manifest.Parse(mftBytes);

            var options = Solo5HvtCommandLine.ParseOptions(args, kernelIndex, manifest, out var refusal);
            if (refusal is not null)
            {
                foreach (var line in refusal.Lines) Warn(line);
                if (refusal.WithUsage) Console.Error.WriteLine(Solo5HvtCommandLine.Usage(Name));
                return Refused;
            }
            ulong memory = Solo5HvtCommandLine.AdjustMemory(options.MemoryBytes, out string? adjusted, out string? tooLarge);
            if (adjusted is not null) Warn(adjusted);
            if (tooLarge is not null) return Fail(tooLarge);
            // elf_load's checks, in the RAM the guest will get; the machine validates again as it loads.
            HvtImage.Validate(elf, file, memory);

            // setup_modules: every declared device attached, block sizes fit the backing storage, the core directory usable.
            var unattached = Solo5HvtCommandLine.Unattached(manifest, options);
            if (unattached.Count > 0)
            {
                foreach (var line in unattached) Warn(line);
                return Fail("All declared devices must be attached. See --help for syntax.");
            }
            foreach (var (name, path) in options.Blocks)
            {
                ushort size = options.BlockSizes.GetValueOrDefault(name, HvtBlockFile.DefaultBlockSize);
                if (BlockCapacity(path) is not { } capacity) return Refused;
                if (HvtBlockFile.CheckCapacity(name, capacity, size) is { } problem) return Fail(problem);
            }
            if (options.DumpCoreDirectory is { } dir)
            {
                if (!Directory.Exists(dir)) return Fail("dumpcore: cannot open dir");
                if (!Writable(dir)) return Fail("dumpcore: dir not writable");
            }
            return Boot(kernel, elf, file, memory, options);
        }
        catch (BootImageException e) { return Fail($"{kernel}: {e.Message}"); }
    }

    private static int Boot(string kernel, ElfImage elf, byte[] file, ulong memory, Solo5HvtCommandLine.Options options)
    {
        var config = new VmConfig
        {
            KernelPath = kernel,
            MemoryBytes = memory,
            HvtBlocks = options.Blocks.Select(b => new HvtDeviceConfig(b.Key, b.Value, options.BlockSizes.GetValueOrDefault(b.Key))).ToArray(),
            HvtNets = options.Nets.Select(n => new HvtDeviceConfig(n.Key, n.Value, 0, options.Macs.TryGetValue(n.Key, out var mac) ? mac : null)).ToArray(),
            GuestArgs = options.GuestArgs,
        };
        HvtMachine machine;
        try
        {
            machine = HvtMachine.ForSolo5Hvt(config, elf, file);
        }
        catch (ConfigException e) { return Fail(e.Message); }
        machine.HvtCoreDumpDirectory = options.DumpCoreDirectory;
        machine.HvtNotice = Warn;
        // As solo5-hvt's sig_handler: errx(1, "Exiting on signal %d"). The run ends through the machine, so the
        // console is flushed and the message printed once, by this thread.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, machine, 2));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, machine, 15));
        VmExit exit;
        try
        {
            // Console's stream writes with write(2) at the file's own offset: a FileStream on fd 1 would pwrite at its
            // private position and, with stdout and stderr on one file (2>&1), overwrite the tender's lines.
            exit = machine.Run(Console.OpenStandardOutput(), null);
        }
        catch (ConfigException e) { return Fail(e.Message); }
        catch (BootImageException e) { return Fail($"{kernel}: {e.Message}"); }
        catch (BlockFileException e) { return Fail(e.Message); }
        catch (KvmException e) { return Fail($"KVM: {e.Message}"); }
        // Anything else (a host shortage, our bug) is worded in one place, one line, never a stack trace or .NET name.
        catch (Exception e) { return Report.Exception(e); }
        if (exit.Message is { } message) Warn(message.StartsWith("hvt: ", StringComparison.Ordinal) ? message[5..] : message);
        return exit.Code;
    }

    private static void OnSignal(PosixSignalContext context, Machine machine, int number)
    {
        context.Cancel = true;
        machine.Stop(new VmExit(Refused, $"Exiting on signal {number}"));
    }

    private static byte[]? ReadImage(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) { Fail($"{path}: Could not open: No such file or directory"); return null; }
            if (info.Length > MaxImageBytes) { Fail($"{path}: {info.Length >> 20} MiB is too large for a unikernel image"); return null; }
            return File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException) { Fail($"{path}: Could not open: Permission denied"); return null; }
        catch (IOException e) { Fail($"{path}: Could not open: {e.Message}"); return null; }
    }

    /// <summary>The backing storage's size, opened read-write as solo5-hvt's block_attach opens it; null after the refusal.</summary>
    private static ulong? BlockCapacity(string path)
    {
        try
        {
            long length;
            using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite)) length = RandomAccess.GetLength(handle);
            if (length > 0) return (ulong)length;
            // fstat gives a block device 0 bytes: BlockFile asks the device (BLKGETSIZE64); an empty file stays 0.
            try { using var device = BlockFile.Open(path); return device.Size; }
            catch (BlockFileException) { return 0; }
        }
        catch (FileNotFoundException) { Fail($"Could not open block device: {path}: No such file or directory"); }
        catch (DirectoryNotFoundException) { Fail($"Could not open block device: {path}: No such file or directory"); }
        catch (UnauthorizedAccessException) { Fail($"Could not open block device: {path}: Permission denied"); }
        catch (IOException e) { Fail($"Could not open block device: {path}: {e.Message}"); }
        return null;
    }

    private static bool Writable(string dir)
    {
        try
        {
            string probe = Path.Combine(dir, $".solo5-hvt-probe.{Environment.ProcessId}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static void Warn(string message) => Console.Error.WriteLine($"{Name}: {message}");

    private static int Fail(string message)
    {
        Warn(message);
        return Refused;
    }
}
