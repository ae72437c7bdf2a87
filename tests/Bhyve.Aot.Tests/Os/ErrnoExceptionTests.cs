using Bhyve.Aot.Interop;
using Bhyve.Aot.IoUring;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Memory;
using Bhyve.Aot.Os;
using Xunit;

namespace Bhyve.Aot.Tests.Os;

/// <summary>Failed system calls outside KVM are ErrnoExceptions, and a shortage says which resource ran out.</summary>
public class ErrnoExceptionTests
{
    [Theory]
    [InlineData(Libc.ENOMEM, "memory")]
    [InlineData(Libc.EMFILE, "file descriptors (this process's limit")]
    [InlineData(Libc.ENFILE, "file descriptors (the system-wide limit")]
    public void A_shortage_names_its_resource(int errno, string resource) =>
        Assert.StartsWith(resource, new ErrnoException("eventfd", errno).ExhaustedResource);

    [Theory]
    [InlineData(Libc.EINVAL)]
    [InlineData(Libc.ENOENT)]
    [InlineData(Libc.EACCES)]
    public void Other_errors_are_not_shortages(int errno) => Assert.Null(new ErrnoException("open", errno).ExhaustedResource);

    [Fact]
    public void The_message_names_the_operation_and_the_errno()
    {
        var e = new ErrnoException("eventfd", Libc.EMFILE);
        Assert.Equal("eventfd", e.Operation);
        Assert.Equal(Libc.EMFILE, e.Errno);
        Assert.StartsWith("eventfd failed: ", e.Message);
        Assert.EndsWith("(errno 24)", e.Message);
    }

    [Fact]
    public void Kvm_and_io_uring_failures_are_kinds_of_it()
    {
        // So a shortage in a KVM ioctl or an io_uring setup is reported as a shortage too.
        Assert.IsAssignableFrom<ErrnoException>(new KvmException("KVM_CREATE_VCPU", Libc.ENOMEM));
        var ring = new IoUringException("setup", Libc.ENOMEM);
        Assert.IsAssignableFrom<ErrnoException>(ring);
        Assert.NotNull(ring.ExhaustedResource);
        Assert.StartsWith("io_uring setup: ", ring.Message);
    }

    [Fact]
    public void Guest_ram_the_host_cannot_map_is_a_memory_shortage_not_a_kvm_failure()
    {
        // 1 PiB is beyond any x86-64 user address space: mmap fails with ENOMEM even with MAP_NORESERVE.
        var e = Assert.Throws<ErrnoException>(() => GuestMemory.Allocate([new RamRange(0, 1UL << 50)]));
        Assert.IsNotType<KvmException>(e);
        Assert.Equal(Libc.ENOMEM, e.Errno);
        Assert.Contains("guest RAM", e.Message);
        Assert.NotNull(e.ExhaustedResource);
    }
}
