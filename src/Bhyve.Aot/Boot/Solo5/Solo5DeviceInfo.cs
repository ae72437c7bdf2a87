namespace Bhyve.Aot.Boot.Solo5;

/// <summary>
/// What the tender tells the guest about an attached device in its copy of the manifest: a block device's
/// capacity and block size (struct mft_block_basic), or a network device's MAC and MTU (struct mft_net_basic).
/// </summary>
public readonly record struct Solo5DeviceInfo(ulong Capacity, ushort BlockSize, ulong Mac, ushort Mtu)
{
    public static Solo5DeviceInfo Block(ulong capacity, ushort blockSize) => new(capacity, blockSize, 0, 0);
    public static Solo5DeviceInfo Net(ulong mac, ushort mtu) => new(0, 0, mac, mtu);
}
