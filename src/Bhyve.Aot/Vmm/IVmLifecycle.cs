namespace Bhyve.Aot.Vmm;

/// <summary>What a vCPU loop needs from its machine: whether to stop, and the result once stopped.</summary>
internal interface IVmLifecycle
{
    bool Stopping { get; }
    VmExit Result { get; }
}
