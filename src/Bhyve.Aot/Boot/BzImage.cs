using System.Buffers.Binary;

namespace Bhyve.Aot.Boot;

/// <summary>
/// A validated Linux bzImage (Documentation/arch/x86/boot.rst): the real-mode setup header and where the
/// protected-mode kernel lies in the file. Only what a 64-bit entry needs is accepted: boot protocol 2.12 or
/// later, LOADED_HIGH, XLF_KERNEL_64. Every offset is checked against the file before it is used.
/// </summary>
public sealed class BzImage
{
    public const int SetupHeaderOffset = 0x1F1;
    public const uint HeaderMagic = 0x5372_6448; // "HdrS"
    public const ushort BootFlag = 0xAA55;
    public const ushort MinimumVersion = 0x020C;
    public const byte LoadedHigh = 0x01;
    public const ushort XlfKernel64 = 0x01, XlfCanBeLoadedAbove4G = 0x02;
    /// <summary>The 64-bit entry lies this far into the protected-mode kernel.</summary>
    public const ulong Entry64Offset = 0x200;

    // Field offsets inside the image (and inside boot_params, which embeds the header at the same place).
    internal const int SetupSects = 0x1F1, BootFlagOffset = 0x1FE, JumpOffset = 0x201, Header = 0x202, Version = 0x206,
        LoadFlags = 0x211, InitrdAddrMax = 0x22C, KernelAlignment = 0x230, RelocatableKernel = 0x234, XLoadFlags = 0x236,
        CmdlineSize = 0x238, PayloadOffset = 0x248, PayloadLength = 0x24C, PrefAddress = 0x258, InitSize = 0x260;

    private BzImage() { }

    public ushort ProtocolVersion { get; private init; }
    public int SetupSectors { get; private init; }
    /// <summary>File offset of the protected-mode kernel ((setup_sects + 1) * 512).</summary>
    public int KernelOffset { get; private init; }
    public int KernelLength { get; private init; }
    /// <summary>The setup header as it lies in the file, from 0x1F1 to its self-described end; copied into the zero page.</summary>
    public int SetupHeaderEnd { get; private init; }
    public byte LoadFlagsValue { get; private init; }
    public ushort XLoadFlagsValue { get; private init; }
    public bool Relocatable { get; private init; }
    public uint Alignment { get; private init; }
    public ulong PreferredAddress { get; private init; }
    /// <summary>Memory the kernel needs from its load address until it has relocated itself (decompression included).</summary>
    public uint InitSizeValue { get; private init; }
    /// <summary>Highest address an initrd may occupy (its last byte).</summary>
    public uint InitrdMax { get; private init; }
    /// <summary>Longest command line the kernel accepts, without the terminating NUL.</summary>
    public uint MaxCmdline { get; private init; }
    /// <summary>The compressed payload (a compressed ELF vmlinux), relative to the protected-mode kernel.</summary>
    public uint Payload { get; private init; }
    public uint PayloadBytes { get; private init; }

    /// <summary>True when the bytes carry a bzImage setup header signature (boot flag and "HdrS").</summary>
    public static bool HasSetupHeader(ReadOnlySpan<byte> file) =>
        file.Length >= Header + 4 && U16(file, BootFlagOffset) == BootFlag && U32(file, Header) == HeaderMagic;

    public static BzImage Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < 1024) throw new BootImageException($"truncated bzImage ({file.Length} bytes)");
        if (U16(file, BootFlagOffset) != BootFlag) throw new BootImageException("not a bzImage: no 0xAA55 boot flag at 0x1FE");
        if (U32(file, Header) != HeaderMagic) throw new BootImageException("not a bzImage: no 'HdrS' setup header at 0x202 (a very old zImage?)");
        ushort version = U16(file, Version);
        if (version < MinimumVersion)
            throw new BootImageException($"bzImage boot protocol {version >> 8}.{version & 0xFF:d2} is too old: need 2.12 or later for the 64-bit entry");
        int setupEnd = Header + file[JumpOffset];
        if (setupEnd < InitSize + 4) throw new BootImageException($"bzImage setup header ends at 0x{setupEnd:x}, too short for protocol {version >> 8}.{version & 0xFF:d2}");
        int setupSects = file[SetupSects] == 0 ? 4 : file[SetupSects];
        int kernelOffset = (setupSects + 1) * 512;
        if (kernelOffset >= file.Length) throw new BootImageException($"truncated bzImage: the protected-mode kernel at 0x{kernelOffset:x} lies past the end");
        int kernelLength = file.Length - kernelOffset;
        byte loadFlags = file[LoadFlags];
        if ((loadFlags & LoadedHigh) == 0) throw new BootImageException("bzImage is not LOADED_HIGH (a zImage): only bzImages are supported");
        ushort xloadFlags = U16(file, XLoadFlags);
        if ((xloadFlags & XlfKernel64) == 0) throw new BootImageException("bzImage has no 64-bit entry point (XLF_KERNEL_64 not set): a 32-bit kernel?");
        if ((ulong)kernelLength <= Entry64Offset) throw new BootImageException("truncated bzImage: the protected-mode kernel is shorter than its 64-bit entry offset");
        uint alignment = U32(file, KernelAlignment);
        bool relocatable = file[RelocatableKernel] != 0;
        if (relocatable && (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 1u << 30))
            throw new BootImageException($"bzImage kernel_alignment 0x{alignment:x} is not a power of two up to 1 GiB");
        ulong pref = U64(file, PrefAddress);
        uint initSize = U32(file, InitSize);
        if (initSize < (uint)kernelLength) throw new BootImageException($"bzImage init_size 0x{initSize:x} is smaller than its kernel (0x{kernelLength:x} bytes)");
        uint payload = U32(file, PayloadOffset), payloadLength = U32(file, PayloadLength);
        if ((ulong)payload + payloadLength > (ulong)kernelLength) throw new BootImageException("bzImage payload lies past the end of the file");
        return new BzImage
        {
            ProtocolVersion = version,
            SetupSectors = setupSects,
            KernelOffset = kernelOffset,
            KernelLength = kernelLength,
            SetupHeaderEnd = setupEnd,
            LoadFlagsValue = loadFlags,
            XLoadFlagsValue = xloadFlags,
            Relocatable = relocatable,
            Alignment = alignment,
            PreferredAddress = pref,
            InitSizeValue = initSize,
            InitrdMax = U32(file, InitrdAddrMax),
            MaxCmdline = U32(file, CmdlineSize),
            Payload = payload,
            PayloadBytes = payloadLength,
        };
    }

    private static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    private static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
}
