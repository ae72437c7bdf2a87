using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Kvm;

/// <summary>An open handle on /dev/kvm: API version, capabilities, and the per-system queries.</summary>
public sealed class KvmHost : IDisposable
{
    public const string DevicePath = "/dev/kvm";
    private int _fd;

    private KvmHost(int fd) => _fd = fd;

    internal int Fd => _fd;

    /// <summary>Opens /dev/kvm and checks the stable API version (12); throws KvmException otherwise.</summary>
    public static KvmHost Open(string path = DevicePath)
    {
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0) throw new KvmException($"open {path}", Libc.LastErrno);
        var host = new KvmHost(fd);
        int version = host.ApiVersion;
        if (version != KvmIoctl.ApiVersion)
        {
            host.Dispose();
            throw new KvmException($"KVM API version is {version}, need {KvmIoctl.ApiVersion}", Libc.EINVAL);
        }
        return host;
    }

    public int ApiVersion => Libc.Ioctl(_fd, KvmIoctl.GetApiVersion, 0);

    /// <summary>KVM_CHECK_EXTENSION: 0 when absent, otherwise a capability-specific positive value.</summary>
    public int CheckExtension(KvmCap cap)
    {
        int r = Libc.Ioctl(_fd, KvmIoctl.CheckExtension, (nuint)(int)cap);
        return r < 0 ? 0 : r;
    }

    public int VcpuMmapSize
    {
        get
        {
            int size = Libc.Ioctl(_fd, KvmIoctl.GetVcpuMmapSize, 0);
            if (size <= 0) throw new KvmException("KVM_GET_VCPU_MMAP_SIZE", Libc.LastErrno);
            return size;
        }
    }

    /// <summary>KVM_GET_SUPPORTED_CPUID: every leaf KVM can present to a guest on this host.</summary>
    // SAFETY: the buffer is pinned and holds the count header plus capacity entries, and KVM writes at most capacity entries (E2BIG otherwise); count is read back from KVM, which never exceeds capacity
    internal unsafe KvmCpuidEntry2[] GetSupportedCpuid()
    {
        for (int capacity = 64; capacity <= 4096; capacity *= 2)
        {
            int bytes = 8 + capacity * sizeof(KvmCpuidEntry2);
            var array = new byte[bytes];
            fixed (byte* p = array)
            {
                *(uint*)p = (uint)capacity;
                if (Libc.Ioctl(_fd, KvmIoctl.GetSupportedCpuid, p) < 0)
                {
                    int errno = Libc.LastErrno;
                    if (errno == Libc.E2BIG) continue;
                    throw new KvmException("KVM_GET_SUPPORTED_CPUID", errno);
                }
                int count = (int)*(uint*)p;
                var entries = new KvmCpuidEntry2[count];
                new ReadOnlySpan<KvmCpuidEntry2>(p + 8, count).CopyTo(entries);
                return entries;
            }
        }
        throw new KvmException("KVM_GET_SUPPORTED_CPUID", Libc.E2BIG);
    }

    public Vm CreateVm()
    {
        int fd;
        // A signal (a child process ending, in a test host) can interrupt the ioctl before any VM exists: try again.
        do fd = Libc.Ioctl(_fd, KvmIoctl.CreateVm, 0);
        while (fd < 0 && Libc.LastErrno == Libc.EINTR);
        if (fd < 0) throw new KvmException("KVM_CREATE_VM", Libc.LastErrno);
        return new Vm(this, fd);
    }

    public void Dispose()
    {
        if (_fd >= 0) { Libc.Close(_fd); _fd = -1; }
    }
}
