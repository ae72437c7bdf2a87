using System.Buffers.Binary;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// Makes a synthetic bzImage in memory: a boot sector with the setup header fields a 64-bit loader reads,
/// setup sectors, then a protected-mode "kernel" of recognisable bytes. Each field can be set to a bad value.
/// </summary>
internal sealed class BzImageBuilder
{
    public byte SetupSects = 4;
    public ushort BootFlag = 0xAA55;
    public uint Magic = 0x5372_6448;
    public ushort Version = 0x020F;
    public byte JumpOffset = 0x6A;           // header ends at 0x26C, as in protocol 2.15
    public byte LoadFlags = 0x01;            // LOADED_HIGH
    public ushort XLoadFlags = 0x03;         // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
    public uint InitrdAddrMax = 0x7FFF_FFFF;
    public uint KernelAlignment = 0x20_0000;
    public byte Relocatable = 1;
    public uint CmdlineSize = 2047;
    public ulong PrefAddress = 0x100_0000;
    public uint? InitSize;
    public uint PayloadOffset = 0x300, PayloadLength = 0x100;
    public int KernelLength = 0x2000;

    public int KernelOffset => ((SetupSects == 0 ? 4 : SetupSects) + 1) * 512;

    public byte[] Build()
    {
        var f = new byte[KernelOffset + KernelLength];
        f[0x1F1] = SetupSects;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x1FE), BootFlag);
        f[0x200] = 0xEB;
        f[0x201] = JumpOffset;
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x202), Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x206), Version);
        f[0x211] = LoadFlags;
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x214), 0x10_0000); // code32_start
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x22C), InitrdAddrMax);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x230), KernelAlignment);
        f[0x234] = Relocatable;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x236), XLoadFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x238), CmdlineSize);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x248), PayloadOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x24C), PayloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(0x258), PrefAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x260), InitSize ?? (uint)KernelLength * 4);
        for (int i = 0; i < KernelLength; i++) f[KernelOffset + i] = (byte)(i * 7 + 3);
        return f;
    }
}
