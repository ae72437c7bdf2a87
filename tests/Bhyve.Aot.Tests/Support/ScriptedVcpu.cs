using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Tests.Support;

/// <summary>One port access a scripted guest makes.</summary>
internal readonly record struct PortAccess(bool IsOut, ushort Port, byte Value = 0);

/// <summary>
/// A vCPU without KVM, for in-process machine tests: each Run "executes" the next port access of a guest written
/// in C# (it fills the kvm_run page as KVM would for an I/O exit), sees the value an IN got on the next call, and
/// honours immediate_exit as KVM does (EINTR at once). A guest step returning null halts: Run then blocks until the
/// vCPU is kicked, as a halted vCPU sits inside KVM_RUN.
/// </summary>
internal sealed unsafe class ScriptedVcpu : IVcpu, IDisposable
{
    private const int PageSize = 4096, DataOffset = 1024;
    private readonly byte* _run;
    private readonly Func<byte?, PortAccess?> _guest;
    private readonly SemaphoreSlim _kick = new(0);
    private PortAccess? _pending;
    private long _runs;

    /// <param name="guest">Given the value the last IN read (null after an OUT or at the start), returns the next access, or null to halt.</param>
    public ScriptedVcpu(int index, Func<byte?, PortAccess?> guest)
    {
        Index = index;
        _guest = guest;
        _run = (byte*)NativeMemory.AllocZeroed(PageSize);
    }

    public int Index { get; }
    public byte* RunPage => _run;
    /// <summary>KVM_RUN calls that executed guest work (not counting EINTR returns).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    public int Run()
    {
        if (Volatile.Read(ref _run[KvmRunLayout.ImmediateExit]) != 0) return Libc.EINTR;
        byte? lastIn = _pending is { IsOut: false } ? _run[DataOffset] : null;
        var next = _guest(lastIn);
        if (next is not { } access)
        {
            // Halted: inside KVM_RUN until a kick (the thread-directed signal, here the semaphore).
            _kick.Wait(TimeSpan.FromSeconds(30));
            return Libc.EINTR;
        }
        Interlocked.Increment(ref _runs);
        _pending = access;
        *(uint*)(_run + KvmRunLayout.ExitReason) = (uint)KvmExitReason.Io;
        _run[KvmRunLayout.IoDirection] = access.IsOut ? (byte)1 : (byte)0;
        _run[KvmRunLayout.IoSize] = 1;
        *(ushort*)(_run + KvmRunLayout.IoPort) = access.Port;
        *(uint*)(_run + KvmRunLayout.IoCount) = 1;
        *(ulong*)(_run + KvmRunLayout.IoDataOffset) = DataOffset;
        _run[DataOffset] = access.Value;
        return 0;
    }

    public void RequestImmediateExit()
    {
        Volatile.Write(ref _run[KvmRunLayout.ImmediateExit], 1);
        _kick.Release();
    }

    public void ClearImmediateExit() => Volatile.Write(ref _run[KvmRunLayout.ImmediateExit], 0);

    public ulong Rip() => 0;

    public void Dispose()
    {
        NativeMemory.Free(_run);
        _kick.Dispose();
    }
}
