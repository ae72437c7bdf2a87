using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>
/// A system call failed; the message names the operation and the errno. Everything outside Kvm/ throws this (or a
/// kind of it); KvmException is the kind for KVM's own calls. When the errno says the host ran out of something,
/// ExhaustedResource says what, and bhyve-aot exits with its host-resource status instead of blaming KVM or itself.
/// </summary>
public class ErrnoException : Exception
{
    public ErrnoException(string operation, int errno) : this($"{operation} failed: {Libc.Describe(errno)}", operation, errno) { }

    /// <summary>For kinds that word their message themselves.</summary>
    protected ErrnoException(string message, string operation, int errno) : base(message) => (Operation, Errno) = (operation, errno);

    public string Operation { get; }
    public int Errno { get; }

    /// <summary>The host resource the errno says is used up, in words for the user, or null when it is not a shortage.</summary>
    public string? ExhaustedResource => Resource(Errno);

    public static string? Resource(int errno) => errno switch
    {
        Libc.ENOMEM => "memory (the host's free memory, or a limit such as ulimit -v)",
        Libc.EMFILE => "file descriptors (this process's limit, ulimit -n)",
        Libc.ENFILE => "file descriptors (the system-wide limit, fs.file-max)",
        _ => null,
    };
}
