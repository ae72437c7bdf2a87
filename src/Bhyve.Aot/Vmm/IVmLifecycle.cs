namespace Bhyve.Aot.Vmm;

/// <summary>What a vCPU loop needs from its machine: whether to stop or pause, where to wait while paused, and the result once stopped.</summary>
internal interface IVmLifecycle
{
    bool Stopping { get; }
    VmExit Result { get; }
    /// <summary>True while a pause is asked for or in force: the loop parks instead of entering KVM_RUN.</summary>
    bool PauseRequested { get; }
    /// <summary>Blocks the calling vCPU thread until the machine resumes or stops.</summary>
    void Park(int vcpu);
}
