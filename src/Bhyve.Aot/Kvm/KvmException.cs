using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>A KVM or host system call failed; the message names the operation and the errno.</summary>
public sealed class KvmException(string operation, int errno)
    : Exception($"{operation} failed: {Libc.Describe(errno)}")
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;
}
