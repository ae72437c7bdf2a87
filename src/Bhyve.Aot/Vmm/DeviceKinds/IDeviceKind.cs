namespace Bhyve.Aot.Vmm;

/// <summary>
/// One kind of device the machine can have (virtio-blk, NVMe): everything the machine and the front ends need to
/// know about it, so that VmConfig, PciSlots, the run options, `--stats` and teardown iterate over
/// <see cref="DeviceKinds.All"/> instead of naming devices. The file formats (machine file, bhyve `-s`) live one
/// layer up, in Config/DeviceForms, beside the kinds they serve.
/// </summary>
public interface IDeviceKind
{
    /// <summary>The device's name in `--stats` lines and messages ("virtio-blk").</summary>
    string Name { get; }
    /// <summary>What one is, for --help ("virtio-blk disk").</summary>
    string Description { get; }
    /// <summary>The `run` option that adds one ("--disk").</summary>
    string LongOption { get; }
    /// <summary>The option's value syntax, for --help.</summary>
    string OptionSyntax { get; }
    /// <summary>The most devices of this kind one machine may have.</summary>
    int MaxCount { get; }

    /// <summary>Reads the option's comma-separated value; throws ConfigException naming the bad key.</summary>
    IDeviceConfig Parse(string text);

    /// <summary>Opens the backend and builds the device for <paramref name="config"/> (a config of this kind).</summary>
    IMachineDevice Attach(IDeviceConfig config, DeviceContext context);

    /// <summary>The `--stats` line for all devices of this kind in one machine, summed; null when there are none.</summary>
    string? Stats(IReadOnlyList<IMachineDevice> devices);
}

/// <summary>A kind whose configs are <typeparamref name="TConfig"/> and whose built devices are <typeparamref name="TDevice"/>: the casts in one place.</summary>
public abstract class DeviceKind<TConfig, TDevice> : IDeviceKind
    where TConfig : IDeviceConfig
    where TDevice : IMachineDevice
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract string LongOption { get; }
    public abstract string OptionSyntax { get; }
    public virtual int MaxCount => 8;

    public abstract TConfig ParseOption(string text);
    public abstract TDevice Attach(TConfig config, DeviceContext context);
    public abstract string Stats(IReadOnlyList<TDevice> devices);

    IDeviceConfig IDeviceKind.Parse(string text) => ParseOption(text);

    IMachineDevice IDeviceKind.Attach(IDeviceConfig config, DeviceContext context) => Attach((TConfig)config, context);

    string? IDeviceKind.Stats(IReadOnlyList<IMachineDevice> devices)
    {
        var mine = devices.OfType<TDevice>().ToArray();
        return mine.Length == 0 ? null : Stats(mine);
    }
}
