using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The Multiple APIC Description Table (ACPI 6.x 5.2.12): one enabled local APIC per vCPU (APIC ID = vCPU
/// index, as our CPUID says), KVM's in-kernel IOAPIC, the SCI's interrupt source override, and LINT1 as NMI.
/// </summary>
public static class Madt
{
    public const uint LocalApicAddress = 0xFEE0_0000;
    public const uint IoApicAddress = 0xFEC0_0000;
    public const byte IoApicId = 0;
    public const byte TypeLocalApic = 0, TypeIoApic = 1, TypeInterruptOverride = 2, TypeLocalApicNmi = 4;
    public const int LocalApicSize = 8, IoApicSize = 12, InterruptOverrideSize = 10, LocalApicNmiSize = 6;
    /// <summary>MPS INTI flags: active high, level triggered (the SCI's polarity and trigger).</summary>
    public const ushort ActiveHighLevel = 0x000D;

    public static byte[] Build(int cpus, byte sciIrq)
    {
        if (cpus is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(cpus), "xAPIC IDs go up to 254");
        int length = AcpiTable.HeaderSize + 8 + cpus * LocalApicSize + IoApicSize + InterruptOverrideSize + LocalApicNmiSize;
        var t = AcpiTable.Create("APIC", length, revision: 4);
        var s = t.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[36..], LocalApicAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(s[40..], 0); // flags: no PC-AT dual 8259 setup to disable (hardware-reduced ACPI)
        int o = AcpiTable.HeaderSize + 8;
        for (int i = 0; i < cpus; i++, o += LocalApicSize)
        {
            s[o] = TypeLocalApic;
            s[o + 1] = LocalApicSize;
            s[o + 2] = (byte)i; // ACPI processor UID
            s[o + 3] = (byte)i; // APIC ID
            BinaryPrimitives.WriteUInt32LittleEndian(s[(o + 4)..], 1); // enabled
        }
        s[o] = TypeIoApic;
        s[o + 1] = IoApicSize;
        s[o + 2] = IoApicId;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(o + 4)..], IoApicAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(o + 8)..], 0); // GSI base
        o += IoApicSize;
        s[o] = TypeInterruptOverride;
        s[o + 1] = InterruptOverrideSize;
        s[o + 2] = 0; // ISA bus
        s[o + 3] = sciIrq;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(o + 4)..], sciIrq);
        BinaryPrimitives.WriteUInt16LittleEndian(s[(o + 8)..], ActiveHighLevel);
        o += InterruptOverrideSize;
        s[o] = TypeLocalApicNmi;
        s[o + 1] = LocalApicNmiSize;
        s[o + 2] = 0xFF; // all processors
        BinaryPrimitives.WriteUInt16LittleEndian(s[(o + 3)..], 0); // bus-conforming polarity and trigger
        s[o + 5] = 1; // LINT1
        AcpiTable.Seal(t);
        return t;
    }
}
