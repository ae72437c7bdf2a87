namespace Bhyve.Aot.Kvm;

/// <summary>
/// What a vCPU thread needs from a virtual CPU: the seam that lets a machine's vCPU loop run in-process against a
/// scripted CPU in tests. <see cref="Vcpu"/> is the KVM one.
/// </summary>
public interface IVcpu
{
    int Index { get; }
    /// <summary>The kvm_run page (KvmRunLayout offsets): the exit reason and the exit's data.</summary>
    // SAFETY: implementations return a kvm_run page (or a test double of its size) that stays mapped while the vCPU exists
    unsafe byte* RunPage { get; }
    /// <summary>KVM_RUN once: 0, or the errno (EINTR after a kick or an immediate exit).</summary>
    int Run();
    /// <summary>Asks the next (or current, once kicked) KVM_RUN to return at once with EINTR.</summary>
    void RequestImmediateExit();
    /// <summary>Clears the request once a KVM_RUN returned EINTR (the reason to stop or pause is then read from the machine's flags).</summary>
    void ClearImmediateExit();
    /// <summary>The instruction pointer, for messages; 0 when it cannot be read.</summary>
    ulong Rip();
}
