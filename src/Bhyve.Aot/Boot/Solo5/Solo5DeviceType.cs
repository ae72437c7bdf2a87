namespace Bhyve.Aot.Boot.Solo5;

/// <summary>Manifest entry types (enum mft_type in Solo5's mft_abi.h).</summary>
public enum Solo5DeviceType : uint
{
    BlockBasic = 1,
    NetBasic = 2,
    /// <summary>Entry 0 of every manifest: a placeholder with an empty name, never a device.</summary>
    ReservedFirst = 1u << 30,
}
