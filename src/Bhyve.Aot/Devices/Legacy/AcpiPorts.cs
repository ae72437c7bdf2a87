using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Devices.Legacy;

/// <summary>What the guest asked for through the ACPI registers.</summary>
public enum AcpiRequest { PowerOff, Reset }

/// <summary>
/// The hardware-reduced ACPI registers the FADT points at, three byte-wide I/O ports:
/// sleep control (a write of SLP_EN with SLP_TYP = the DSDT's \_S5 value powers off; other sleep
/// states are not offered), sleep status (reads 0x80, WAK_STS, so a guest polling for wake-up moves on),
/// and the reset register (writing the FADT's reset value resets). Nothing else has any effect.
/// </summary>
public sealed class AcpiPorts(Action<AcpiRequest> request) : IBusDevice
{
    public const ushort Base = 0x600;
    public const int PortCount = 3;
    public const int SleepControlOffset = 0, SleepStatusOffset = 1, ResetOffset = 2;
    public const byte ResetValue = 0x01;
    /// <summary>SLP_TYP of S5 as the DSDT's \_S5 package declares it.</summary>
    public const byte S5SleepType = 5;
    /// <summary>The SCI's ISA interrupt; nothing raises it (hardware-reduced ACPI has no fixed events), but the FADT names one.</summary>
    public const byte SciIrq = 9;
    public const byte SleepEnable = 0x20, SleepTypeMask = 0x1C, WakeStatus = 0x80;

    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset == SleepStatusOffset) data[0] = WakeStatus;
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        byte value = data[0];
        switch (offset)
        {
            case SleepControlOffset when (value & SleepEnable) != 0 && (value & SleepTypeMask) >> 2 == S5SleepType:
                request(AcpiRequest.PowerOff);
                break;
            case ResetOffset when value == ResetValue:
                request(AcpiRequest.Reset);
                break;
        }
    }
}
