using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;

namespace Bhyve.Aot.Kvm;

/// <summary>
/// A call to KVM itself failed (opening /dev/kvm, a KVM ioctl); the message names the operation and the errno. Other
/// system calls throw ErrnoException: only this kind means "this host cannot run VMs", unless the errno is a shortage.
/// </summary>
public sealed class KvmException(string operation, int errno) : ErrnoException(operation, errno);
