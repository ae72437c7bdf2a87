namespace Bhyve.Aot.Host;

/// <summary>Which KVM backs /dev/kvm, from /sys/module, and the vendor module's parameters that matter for speed.</summary>
public static class KvmFlavourProbe
{
    public const string PvmCaveat =
        "KVM here is kvm_pvm (paravirtual, page-table-based, no VT-x/AMD-V): guest code at CPL0 is executed by KVM's "
        + "instruction emulator, so stock kernels fail early and only CPL3 guests run at speed";

    /// <summary>Reads {root}/sys/module; built-in modules with parameters appear there too, so no /proc/modules needed.</summary>
    public static KvmModuleReport Detect(HostFileSystem fs)
    {
        bool kvm = fs.DirectoryExists("/sys/module/kvm");
        // Only one vendor module can be loaded at a time (they all register kvm_x86_ops), so the order is moot.
        if (fs.DirectoryExists("/sys/module/kvm_intel"))
        {
            bool? ept = Flag(fs, "kvm_intel", "ept");
            bool? ug = Flag(fs, "kvm_intel", "unrestricted_guest");
            return new KvmModuleReport(KvmFlavour.Intel, kvm, ept, ug, null, Flag(fs, "kvm_intel", "nested"),
                "hardware-assisted KVM on Intel VT-x" + (ept == false ? " with shadow paging (ept=N)" : ""));
        }
        if (fs.DirectoryExists("/sys/module/kvm_amd"))
        {
            bool? npt = Flag(fs, "kvm_amd", "npt");
            return new KvmModuleReport(KvmFlavour.Amd, kvm, null, null, npt, Flag(fs, "kvm_amd", "nested"),
                "hardware-assisted KVM on AMD-V" + (npt == false ? " with shadow paging (npt=N)" : ""));
        }
        if (fs.DirectoryExists("/sys/module/kvm_pvm"))
            return new KvmModuleReport(KvmFlavour.Pvm, kvm, null, null, null, null, PvmCaveat);
        return new KvmModuleReport(KvmFlavour.None, kvm, null, null, null, null,
            kvm ? "kvm is loaded but no vendor module (kvm_intel, kvm_amd, kvm_pvm)" : "no KVM module is loaded");
    }

    /// <summary>A boolean module parameter: "Y"/"N" for bool parameters, "1"/"0" for the older int ones (nested).</summary>
    public static bool? ParseFlag(string? value) => value switch
    {
        "Y" or "y" or "1" => true,
        "N" or "n" or "0" => false,
        _ => null,
    };

    private static bool? Flag(HostFileSystem fs, string module, string parameter) =>
        ParseFlag(fs.ReadValue($"/sys/module/{module}/parameters/{parameter}"));
}
