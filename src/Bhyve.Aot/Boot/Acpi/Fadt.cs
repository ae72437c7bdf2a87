using System.Buffers.Binary;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// The Fixed ACPI Description Table, revision 6 (276 bytes, ACPI 6.x 5.2.9), for hardware-reduced ACPI:
/// no PM1 blocks, timers or GPEs to emulate; power-off goes through the sleep control register and reset
/// through the reset register, both byte-wide I/O ports the machine description names. No FACS (none is needed without
/// a global lock or waking vector).
/// </summary>
public static class Fadt
{
    public const int Size = 276;
    public const uint FlagResetRegSup = 1u << 10, FlagPwrButton = 1u << 4, FlagSlpButton = 1u << 5, FlagHwReducedAcpi = 1u << 20;
    /// <summary>IA-PC boot architecture flags: no VGA (bit 2), no CMOS RTC (bit 5). Bit 3 (MSI not supported) stays clear.</summary>
    public const ushort IapcBootArch = (1 << 2) | (1 << 5);
    // Field offsets.
    public const int Dsdt32 = 40, SciInt = 46, IapcBootArchOffset = 109, Flags = 112, ResetReg = 116, ResetValue = 128,
        MinorVersion = 131, XDsdt = 140, SleepControlReg = 244, SleepStatusReg = 256;

    public static byte[] Build(ulong dsdtAddress, AcpiRegisters registers)
    {
        var t = AcpiTable.Create("FACP", Size, revision: 6);
        var s = t.AsSpan();
        if (dsdtAddress <= uint.MaxValue) BinaryPrimitives.WriteUInt32LittleEndian(s[Dsdt32..], (uint)dsdtAddress);
        BinaryPrimitives.WriteUInt16LittleEndian(s[SciInt..], registers.SciIrq);
        BinaryPrimitives.WriteUInt16LittleEndian(s[IapcBootArchOffset..], IapcBootArch);
        BinaryPrimitives.WriteUInt32LittleEndian(s[Flags..], FlagHwReducedAcpi | FlagResetRegSup | FlagPwrButton | FlagSlpButton);
        GenericAddress.IoByte(registers.ResetPort).WriteTo(s[ResetReg..]);
        s[ResetValue] = registers.ResetValue;
        s[MinorVersion] = 3;
        BinaryPrimitives.WriteUInt64LittleEndian(s[XDsdt..], dsdtAddress);
        GenericAddress.IoByte(registers.SleepControlPort).WriteTo(s[SleepControlReg..]);
        GenericAddress.IoByte(registers.SleepStatusPort).WriteTo(s[SleepStatusReg..]);
        AcpiTable.Seal(t);
        return t;
    }
}
