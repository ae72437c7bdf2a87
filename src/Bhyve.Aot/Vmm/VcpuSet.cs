using Bhyve.Aot.Os;
using System.Runtime.InteropServices;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Kvm;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// The vCPU threads of one machine, whatever its type: one thread per vCPU running its KVM_RUN loop, the run's
/// result (the first stop wins), a kick that gets every vCPU out of KVM_RUN (immediate_exit plus a thread-directed
/// signal, so a vCPU halted inside the kernel returns too), pause and resume, and joining the threads so that
/// devices and guest memory are torn down only once no vCPU can touch them.
/// </summary>
internal sealed class VcpuSet : IVmLifecycle
{
    private readonly IoBus _ports, _mmio;
    private readonly Func<VmExit, VmExit> _mapVcpuExit;
    private readonly List<Entry> _vcpus = [];
    private readonly TaskCompletionSource<VmExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _pauseLock = new(); // Monitor.Wait/PulseAll need an object, not a Lock
    private volatile bool _stopping, _pauseRequested;
    private int _parked;

    /// <param name="mapVcpuExit">Rewrites a result a vCPU loop ends with (an hvt machine turns every fault into status 1).</param>
    public VcpuSet(IoBus ports, IoBus mmio, Func<VmExit, VmExit>? mapVcpuExit = null)
    {
        _ports = ports;
        _mmio = mmio;
        _mapVcpuExit = mapVcpuExit ?? (e => e);
    }

    private sealed class Entry(IVcpu vcpu, VcpuLoop loop)
    {
        public IVcpu Vcpu { get; } = vcpu;
        public VcpuLoop Loop { get; } = loop;
        public Thread? Thread;
        /// <summary>The kernel thread id, once the thread runs; 0 before.</summary>
        public volatile int Tid;
    }

    public bool Stopping => _stopping;
    public bool PauseRequested => _pauseRequested;
    public VmExit Result => _exit.Task.IsCompleted ? _exit.Task.Result : new VmExit(ExitCodes.VmmFailure, "stopped without a result");
    public Task<VmExit> Ended => _exit.Task;
    public int Count => _vcpus.Count;

    /// <summary>Exits taken to user space by all vCPUs, summed.</summary>
    public ExitCounters Exits
    {
        get
        {
            var sum = new ExitCounters();
            lock (_vcpus)
                foreach (var e in _vcpus)
                {
                    var c = e.Loop.Counters;
                    sum.Io += c.Io;
                    sum.Mmio += c.Mmio;
                    sum.Interrupted += c.Interrupted;
                    sum.Other += c.Other;
                }
            return sum;
        }
    }

    private readonly ManualResetEventSlim _mainFiltered = new();

    public void Add(IVcpu vcpu)
    {
        lock (_vcpus) _vcpus.Add(new Entry(vcpu, new VcpuLoop(vcpu, _ports, _mmio, this)));
    }

    /// <summary>
    /// Starts one thread per vCPU. Each filters itself as a vCPU (seccomp) and then waits for the starting thread's
    /// <see cref="EnterMainFilter"/>, so no guest instruction runs before every thread of ours is filtered.
    /// </summary>
    public void Start()
    {
        VcpuKick.EnsureInstalled();
        lock (_vcpus)
            foreach (var e in _vcpus)
            {
                e.Thread = new Thread(() => RunVcpu(e)) { IsBackground = true, Name = $"vcpu{e.Vcpu.Index}" };
                e.Thread.Start();
            }
    }

    /// <summary>The starting (main) thread's seccomp filter; then the vCPUs may enter the guest.</summary>
    public void EnterMainFilter()
    {
        try { SeccompFilter.EnterThread(SeccompThreadKind.Main); }
        finally { _mainFiltered.Set(); }
    }

    /// <summary>Ends the run with this result (the first caller wins) and gets every vCPU out of KVM_RUN.</summary>
    public bool Stop(VmExit result)
    {
        if (!_exit.TrySetResult(result)) return false;
        _stopping = true;
        lock (_pauseLock) Monitor.PulseAll(_pauseLock);
        Kick();
        return true;
    }

    /// <summary>Blocks until the run has a result.</summary>
    public VmExit WaitForResult() => _exit.Task.GetAwaiter().GetResult();

    /// <summary>Waits for every vCPU thread to end; false when one is still running after <paramref name="timeout"/> (it is stuck in a device handler).</summary>
    public bool Join(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Entry[] all;
        lock (_vcpus) all = [.. _vcpus];
        foreach (var e in all)
        {
            if (e.Thread is not { } t) continue;
            var left = deadline - DateTime.UtcNow;
            while (!t.Join(left < TimeSpan.Zero ? TimeSpan.Zero : Min(left, TimeSpan.FromMilliseconds(50))))
            {
                // A kick can land just before the thread re-enters KVM_RUN on a path that ignores immediate_exit; kick again.
                Kick();
                left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Pauses the guest: every vCPU leaves KVM_RUN and parks. Returns when all are parked (true) or after
    /// <paramref name="timeout"/> (false: the pause stays asked for and completes when the last one parks).
    /// </summary>
    public bool Pause(TimeSpan timeout)
    {
        if (_stopping) return false;
        _pauseRequested = true;
        Kick();
        var deadline = DateTime.UtcNow + timeout;
        lock (_pauseLock)
        {
            while (_parked < RunningCount() && !_stopping)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(_pauseLock, Min(left, TimeSpan.FromMilliseconds(50)));
                if (_parked < RunningCount()) Kick();
            }
        }
        return !_stopping;
    }

    /// <summary>Lets parked vCPUs run again.</summary>
    public void Resume()
    {
        lock (_pauseLock)
        {
            _pauseRequested = false;
            Monitor.PulseAll(_pauseLock);
        }
    }

    /// <summary>True when a pause was asked for and every running vCPU is parked.</summary>
    public bool IsPaused
    {
        get { lock (_pauseLock) return _pauseRequested && _parked >= RunningCount(); }
    }

    void IVmLifecycle.Park(int vcpu)
    {
        lock (_pauseLock)
        {
            _parked++;
            Monitor.PulseAll(_pauseLock);
            while (_pauseRequested && !_stopping) Monitor.Wait(_pauseLock);
            _parked--;
        }
    }

    /// <summary>vCPU threads that have not ended (a parked one counts; one that returned a result does not).</summary>
    private int RunningCount()
    {
        lock (_vcpus) return _vcpus.Count(e => e.Thread is { IsAlive: true });
    }

    private void Kick()
    {
        Entry[] all;
        lock (_vcpus) all = [.. _vcpus];
        foreach (var e in all) e.Vcpu.RequestImmediateExit();
        int pid = Threads.GetPid();
        foreach (var e in all)
            if (e.Tid != 0 && e.Thread is { IsAlive: true }) Threads.TgKill(pid, e.Tid, VcpuKick.Signal);
    }

    private void RunVcpu(Entry e)
    {
        e.Tid = Threads.GetTid();
        try
        {
            SeccompFilter.EnterThread(SeccompThreadKind.Vcpu);
            _mainFiltered.Wait();
            Stop(_mapVcpuExit(e.Loop.Run()));
        }
        catch (Exception ex)
        {
            // A failed host call words itself; anything else is our bug, and its .NET name and text are not for users.
            string why = ex is ErrnoException ? ex.Message : "an unexpected failure inside bhyve-aot (a bug: please report it with the command line)";
            Stop(new VmExit(ExitCodes.VmmFailure, $"vCPU thread failed: {why}"));
        }
        finally
        {
            e.Tid = 0;
            lock (_pauseLock) Monitor.PulseAll(_pauseLock);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>
/// The signal that kicks a vCPU thread out of KVM_RUN. The runtime's handler for a registered signal only notes it
/// (async-signal-safe) and our callback cancels the default action, so the one effect is that KVM_RUN returns EINTR.
/// </summary>
internal static class VcpuKick
{
    public const int Signal = Threads.SIGUSR2;
    private static PosixSignalRegistration? s_registration;
    private static readonly Lock s_lock = new();

    public static void EnsureInstalled()
    {
        lock (s_lock) s_registration ??= PosixSignalRegistration.Create((PosixSignal)Signal, c => c.Cancel = true);
    }
}
