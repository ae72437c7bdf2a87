using System.Globalization;
using System.Text;

namespace Bhyve.Aot.Host;

/// <summary>
/// The human form of a <see cref="HostReport"/>: sections, one aligned line per item with a status word.
/// The word mirrors the verdict: "missing"/"fail" block, "warn" is a warning, "ok" and "info" are facts.
/// </summary>
public static class HostReportText
{
    public const string Ok = "ok", Missing = "missing", Fail = "fail", Warn = "warn", Info = "info";

    private readonly record struct Row(string Label, string Status, string Detail);

    public static string Format(HostReport report)
    {
        var sections = new List<(string Title, List<Row> Rows)>
        {
            ("/dev/kvm", DeviceRows(report.Device)),
            ("KVM capabilities", CapabilityRows(report.Capabilities)),
            ("Smoke test", SmokeRows(report.SmokeTest)),
            ("CPU", CpuRows(report.Cpu, report.KvmModule.Flavour)),
            ("KVM module", ModuleRows(report.KvmModule)),
            ("io_uring", IoUringRows(report.IoUring)),
        };
        int labelWidth = sections.SelectMany(s => s.Rows).Select(r => r.Label.Length).DefaultIfEmpty(0).Max() + 2;
        int statusWidth = Missing.Length + 2;

        var text = new StringBuilder();
        foreach (var (title, rows) in sections)
        {
            text.Append(title).Append('\n');
            foreach (var row in rows)
                text.Append(("  " + row.Label.PadRight(labelWidth) + row.Status.PadRight(statusWidth) + row.Detail).TrimEnd()).Append('\n');
            text.Append('\n');
        }

        text.Append("Verdict\n");
        text.Append("  ").Append(report.CanRunVms ? HostVerdict.CanRunText : HostVerdict.CannotRunText).Append('\n');
        foreach (var problem in report.Problems) text.Append("    - ").Append(problem).Append('\n');
        if (report.Warnings.Length > 0)
        {
            text.Append("  Warnings:\n");
            foreach (var warning in report.Warnings) text.Append("    - ").Append(warning).Append('\n');
        }
        return text.ToString();
    }

    private static List<Row> DeviceRows(KvmDeviceReport d)
    {
        if (!d.Present) return [new("device", Missing, $"{d.Path} does not exist")];
        var rows = new List<Row> { new("device", Ok, $"{d.Path}  {d.Mode ?? "?"}  {d.Owner ?? "?"}:{d.Group ?? "?"}") };
        string access = d.Readable && d.Writable ? "read+write" : d.Readable ? "read only" : d.Writable ? "write only" : "none";
        rows.Add(new("access", d.Readable && d.Writable ? Ok : Fail, access));
        rows.Add(d.Opens ? new("open", Ok, "O_RDWR") : new("open", Fail, d.OpenError ?? "failed"));
        if (d.Hint is not null) rows.Add(new("hint", Info, d.Hint));
        if (d.ApiVersion is int v) rows.Add(new("API version", v == Interop.KvmIoctl.ApiVersion ? Ok : Fail, $"{v} (need {Interop.KvmIoctl.ApiVersion})"));
        return rows;
    }

    private static List<Row> CapabilityRows(KvmCapabilityReport[] caps)
    {
        if (caps.Length == 0) return [new("(not queried)", Info, "/dev/kvm is not usable")];
        return [.. caps.Select(c =>
        {
            string status = c.Requirement switch
            {
                CapabilityRequirement.Value => Info,
                _ when c.Present => Ok,
                CapabilityRequirement.Required => Missing,
                _ => Warn,
            };
            string requirement = c.Requirement.ToString().ToLowerInvariant();
            return new Row(c.Name, status, $"{c.Value.ToString(CultureInfo.InvariantCulture),-7}{requirement,-10}{c.Purpose}");
        })];
    }

    private static List<Row> SmokeRows(SmokeTestReport smoke)
    {
        if (!smoke.Ran) return [new("(not run)", Info, "/dev/kvm is not usable")];
        return [.. smoke.Steps.Select(s =>
        {
            string status = s.Outcome switch { SmokeStepOutcome.Ok => Ok, SmokeStepOutcome.Skipped => Warn, _ => Fail };
            string detail = s.Error ?? (s.Name == KvmSmokeTest.TscStep && smoke.TscKhz is long khz ? TscText(khz) : "");
            return new Row(s.Name, status, detail);
        })];
    }

    private static string TscText(long khz) =>
        khz == 0 ? "unknown (KVM reports 0 kHz)" : string.Create(CultureInfo.InvariantCulture, $"{khz} kHz ({khz / 1000.0:0.000} MHz)");

    private static List<Row> CpuRows(CpuReport cpu, KvmFlavour flavour)
    {
        var rows = new List<Row>
        {
            new("vendor", Info, cpu.Vendor),
            new("brand", Info, cpu.Brand.Length > 0 ? cpu.Brand : "(none)"),
        };
        if (cpu.Vmx || cpu.Svm) rows.Add(new("virtualization", Ok, cpu.Vmx && cpu.Svm ? "VMX and SVM" : cpu.Vmx ? "VMX" : "SVM"));
        else if (flavour == KvmFlavour.Pvm) rows.Add(new("virtualization", Info, "neither VMX nor SVM (kvm_pvm does not need them)"));
        else rows.Add(new("virtualization", Warn, "neither VMX nor SVM visible"));
        rows.Add(new("POPCNT", cpu.Popcnt ? Ok : Warn, cpu.Popcnt ? "yes" : "no"));
        rows.Add(cpu.HypervisorPresent
            ? new("hypervisor", Warn, $"{cpu.HypervisorVendor ?? "unknown"} (this host is a VM: nested virtualization)")
            : new("hypervisor", Info, "none (bare metal)"));
        if (cpu.ProcFlags is { } f)
            rows.Add(new("cpuinfo flags", Info, $"ept {YesNo(f.Ept)}, vpid {YesNo(f.Vpid)}, npt {YesNo(f.Npt)}"));
        return rows;
    }

    private static List<Row> ModuleRows(KvmModuleReport m)
    {
        var rows = new List<Row>();
        rows.Add(new("kvm", m.KvmLoaded ? Ok : Missing, m.KvmLoaded ? "loaded" : "not loaded"));
        string status = m.Flavour switch { KvmFlavour.Intel or KvmFlavour.Amd => Ok, KvmFlavour.Pvm => Warn, _ => Missing };
        string name = m.Flavour switch { KvmFlavour.Intel => "kvm_intel", KvmFlavour.Amd => "kvm_amd", KvmFlavour.Pvm => "kvm_pvm", _ => "none" };
        rows.Add(new("vendor module", status, name));
        rows.Add(new("about", m.Flavour == KvmFlavour.Pvm ? Warn : Info, m.Description));
        if (m.Ept is bool ept) rows.Add(new("ept", ept ? Ok : Warn, YesNo(ept)));
        if (m.UnrestrictedGuest is bool ug) rows.Add(new("unrestricted_guest", ug ? Ok : Warn, YesNo(ug)));
        if (m.Npt is bool npt) rows.Add(new("npt", npt ? Ok : Warn, YesNo(npt)));
        if (m.Nested is bool nested) rows.Add(new("nested", Info, YesNo(nested)));
        return rows;
    }

    private static List<Row> IoUringRows(IoUringReport io)
    {
        var rows = new List<Row>();
        if (io.Disabled is int d)
            rows.Add(new("io_uring_disabled", d == 0 ? Ok : Warn, d switch { 0 => "0 (enabled)", 1 => "1 (privileged only)", _ => $"{d} (disabled)" }));
        rows.Add(io.SetupWorks
            ? new("io_uring_setup", Ok, string.Create(CultureInfo.InvariantCulture, $"works (features 0x{io.Features ?? 0:x})"))
            : new("io_uring_setup", Warn, io.SetupError ?? "failed"));
        if (io.SetupWorks)
            rows.Add(io.ProbeWorks
                ? new("register probe", Ok, $"last opcode {io.LastOp}")
                : new("register probe", Warn, io.ProbeError ?? "failed"));
        if (io.ProbeWorks)
            foreach (var op in io.Opcodes)
                rows.Add(new(op.Name, op.Supported ? Ok : op.Needed ? Warn : Info,
                    (op.Supported ? "supported" : "unsupported").PadRight(13) + (op.Needed ? "needed" : "optional")));
        rows.Add(new("block engine", io.BlockEngine == IoUringProbe.IoUringEngine ? Ok : Warn, io.BlockEngine));
        return rows;
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
