using System.Text;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// Debian's stock cloud kernel on bhyve-aot. On a host whose KVM is kvm_pvm (nested, page-table based),
/// guest code at CPL0 runs in KVM's instruction emulator (about a million instructions a second, less when
/// the host is loaded), so the kernel advances slowly and stops wherever the emulator gives up: the test
/// boots it for a bounded time, asserts every milestone it reached (banner, our e820 map, our ACPI tables,
/// the MADT, the PCI host bridge), reports how far it got and when, and never passes on a boot that
/// printed nothing. The vmlinux (ELF with the PVH note, extracted from Debian's bzImage) is booted through
/// PVH: it skips the decompressor, which alone takes minutes in the emulator (see the bzImage test).
/// </summary>
public sealed class DebianKernelBootTests(ITestOutputHelper output)
{
    private const ulong Memory = 128 * GuestLayout.MiB;
    private const int Cpus = 2;
    private const string Cmdline = "console=ttyS0 earlyprintk=serial,ttyS0 loglevel=8 panic=-1";

    /// <summary>
    /// How much slower than an idle host this one runs: the emulator shares the CPUs with everything else, so
    /// the 1-minute load average per CPU scales the time the kernel needs (measured here: banner after 62 s at
    /// load 20, after 201 s at load 43, on 2 CPUs).
    /// </summary>
    private static double LoadFactor
    {
        get
        {
            try
            {
                double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return Math.Clamp(load / Environment.ProcessorCount, 1, 4);
            }
            catch (IOException) { return 1; }
        }
    }

    /// <summary>How long one boot may run: 100 s on an idle host, scaled by load up to 400 s; BHYVE_AOT_LINUX_SECONDS overrides it.</summary>
    private static TimeSpan Bound => TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("BHYVE_AOT_LINUX_SECONDS"), out int s) && s > 0 ? s : 100 * LoadFactor);

    /// <summary>Once the kernel prints, silence this long means it has stopped (or is about to): the test ends the run.</summary>
    private static TimeSpan Idle => TimeSpan.FromSeconds(30 * LoadFactor);

    private sealed record Milestone(string Name, string Marker);

    /// <summary>What the kernel prints as it gets through our firmware-provided platform, in boot order.</summary>
    private static readonly Milestone[] Milestones =
    [
        new("banner", "Linux version "),
        new("e820 map", "BIOS-provided physical RAM map:"),
        new("RSDP found", "ACPI: RSDP 0x00000000000E0000 000024 (v02 BHYVE )"),
        new("XSDT parsed", "ACPI: XSDT 0x"),
        new("FADT", "ACPI: FACP 0x"),
        new("DSDT", "ACPI: DSDT 0x"),
        new("MADT", "ACPI: APIC 0x"),
        new("MCFG", "ACPI: MCFG 0x"),
        new("MADT used for SMP", "ACPI: Using ACPI (MADT) for SMP configuration information"),
        new("both vCPUs seen", $"smpboot: Allowing {Cpus} CPUs"),
        new("ECAM from MCFG", "PCI: MMCONFIG for domain 0000 [bus 00-ff] at [mem 0xe0000000-0xefffffff]"),
        new("PCI host bridge from DSDT", "ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])"),
    ];

    private static string E820Line(MemoryMapEntry e) =>
        $"BIOS-e820: [mem 0x{e.Address:x16}-0x{e.End - 1:x16}] {(e.Type == MemoryType.Ram ? "usable" : "reserved")}";

    [Fact]
    public async Task The_stock_kernel_finds_our_memory_map_ACPI_tables_and_PCI_host_bridge_as_far_as_it_gets()
    {
        Repo.RequireKvm();
        string vmlinux = LinuxImage.File("vmlinux");
        var run = await TimedConsoleRun.RunAsync(Repo.Binary,
            ["run", "--kernel", vmlinux, "--memory", $"{Memory >> 20}M", "--cpus", $"{Cpus}", "--cmdline", Cmdline],
            Bound, lines => lines.Any(l => l.Text.Contains(Milestones[^1].Marker)), idle: Idle);
        var lines = run.Lines;
        var reached = Milestones.Select(m => (m, line: lines.FirstOrDefault(l => l.Text.Contains(m.Marker)))).ToArray();
        Report(run, reached.Select(r => (r.m.Name, r.line.Text is null ? (TimeSpan?)null : r.line.At)));

        Assert.True(lines.Count > 0, $"the kernel printed nothing within {run.Elapsed.TotalSeconds:F0} s (stderr: {run.Stderr})");
        Assert.True(reached[0].line.Text is not null, $"no 'Linux version' banner in {lines.Count} lines");
        string text = string.Join('\n', lines.Select(l => l.Text));
        Assert.Contains("Linux version 6.", text);
        Assert.Contains($"Command line: {Cmdline}", text);
        // Our e820 map, entry for entry, nothing else.
        var e820 = lines.Where(l => l.Text.Contains("BIOS-e820:")).Select(l => l.Text[(l.Text.IndexOf("BIOS-e820:", StringComparison.Ordinal))..]).ToArray();
        Assert.Equal(GuestLayout.MemoryMap(Memory).Select(E820Line), e820);
        Assert.DoesNotContain("ACPI BIOS Error", text);
        Assert.DoesNotContain("ACPI Error", text);
        Assert.DoesNotContain("A valid RSDP was not found", text);

        // Milestones come in order: once a later one is there, every earlier one must be too.
        int last = Array.FindLastIndex(reached, r => r.line.Text is not null);
        for (int i = 0; i <= last; i++)
            Assert.True(reached[i].line.Text is not null, $"'{Milestones[i].Name}' is missing although '{Milestones[last].Name}' was reached");
        // The ACPI table lines are printed together; a kernel past memory setup must have printed them.
        if (text.Contains("Zone ranges:")) Assert.True(last >= Array.FindIndex(Milestones, m => m.Name == "MCFG"), "kernel got past memory setup without listing our ACPI tables");
        if (reached.Single(r => r.m.Name == "MADT used for SMP").line.Text is not null)
        {
            Assert.Contains("IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23", text);
            Assert.Contains("ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)", text);
        }
        Assert.True(last >= 1, "the kernel did not even print its memory map");
    }

    private void Report(TimedConsoleRun run, IEnumerable<(string Name, TimeSpan? At)> milestones)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Debian cloud kernel (PVH vmlinux), {Cpus} vCPUs, {Memory >> 20} MiB, bound {Bound.TotalSeconds:F0} s (load factor {LoadFactor:F1}):");
        foreach (var (name, at) in milestones)
            sb.AppendLine(at is { } t ? $"  {t.TotalSeconds,7:F1} s  {name}" : $"  {"-",7}    {name} (not reached)");
        var lines = run.Lines;
        sb.AppendLine(run.ExitCode is { } code
            ? $"  the run ended by itself after {run.Elapsed.TotalSeconds:F1} s with status {code}: {run.Stderr.Trim()}"
            : run.StoppedIdle
                ? $"  no console output for {Idle.TotalSeconds:F0} s: stopped by the test after {run.Elapsed.TotalSeconds:F1} s (the kernel is stuck or crawling in the emulator)"
                : $"  still running at the bound: stopped by the test after {run.Elapsed.TotalSeconds:F1} s");
        if (lines.Count > 0) sb.AppendLine($"  last line ({lines[^1].At.TotalSeconds:F1} s): {lines[^1].Text}");
        output.WriteLine(sb.ToString());
        Console.WriteLine(sb.ToString());
    }
}
