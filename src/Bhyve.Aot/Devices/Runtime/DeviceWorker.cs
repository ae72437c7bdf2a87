using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Runtime;

/// <summary>
/// The thread behind a device's queues: it owns an EventLoop, runs one budgeted pass at a time (Pass serves at most
/// a queue's size of entries per queue, so a guest that keeps adding cannot keep it in one pass), sleeps in the
/// loop when the pass says nothing is ready, and on Stop drains the block engine one way: every request the kernel
/// still holds (it may be writing guest RAM) is reaped and dropped, nothing is published.
///
/// It is also the device's exception boundary: anything thrown by a pass (a host failure such as io_uring_enter
/// ENOMEM, or a bug) is caught here, counted, reported on one rate-limited stderr line naming the device, and
/// handed to OnFailed, which marks the device broken the way its spec says (virtio DEVICE_NEEDS_RESET, NVMe
/// CSTS.CFS). The worker then drains and ends; the VMM and every other device keep running. Guest mistakes are
/// not exceptions: devices turn them into statuses or ring-corruption resets without throwing.
///
/// Tests may call the pass directly on their own thread and never Start the worker; Stop still drains.
/// </summary>
public abstract class DeviceWorker
{
    private const int DrainWaitMs = 100;
    /// <summary>How long a failed worker waits for the kernel before it gives up on in-flight requests.</summary>
    private static readonly TimeSpan FailedDrainLimit = TimeSpan.FromSeconds(10);
    private readonly IBlockEngine? _engine;
    private readonly BlockCompletion[] _drained = new BlockCompletion[32];
    private Thread? _thread;
    private int _stopped;
    private volatile string? _failure;
    private long _faults;

    protected DeviceWorker(string name, IBlockEngine? engine)
    {
        Name = name;
        _engine = engine;
        Loop = new EventLoop();
    }

    /// <summary>The device (and queue) this worker serves, as the fault line names it.</summary>
    public string Name { get; }

    /// <summary>Why the worker stopped serving on its own, or null while it is healthy.</summary>
    public string? Failure => _failure;

    /// <summary>Failures caught by this worker's boundary (0 or 1: it stops serving after the first).</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>Whether the worker's thread is running (false before Start and once it ended).</summary>
    public bool IsAlive => _thread?.IsAlive ?? false;

    protected EventLoop Loop { get; }

    /// <summary>One pass over every queue this worker owns. Returns true when more work is ready at once (do not sleep).</summary>
    protected abstract bool Pass();

    /// <summary>Called after a pass that found nothing: false when work may have arrived without a wake-up (re-check).</summary>
    protected internal virtual bool ReadyToSleep() => true;

    /// <summary>Marks the device broken per its spec. Runs on the worker thread; must not wait for the worker.</summary>
    protected abstract void OnFailed(string reason);

    /// <summary>Releases what the device owns once the worker ended (the engine is disposed by the worker itself).</summary>
    protected virtual void ReleaseResources() { }

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = Name };
        _thread.Start();
    }

    /// <summary>
    /// Stops serving and returns once the thread ended and the kernel holds no request of this worker (none can
    /// touch guest RAM afterwards); then releases the engine and the loop. Idempotent; never call it on the worker.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        Loop.RequestStop();
        if (_thread is not null) _thread.Join();
        else DrainEngine();
        _engine?.Dispose();
        ReleaseResources();
        Loop.Dispose();
    }

    private void Run()
    {
        Span<int> ready = stackalloc int[16];
        try
        {
            // The worker's own seccomp filter before it touches a guest queue (nothing when --seccomp off).
            SeccompFilter.EnterThread(SeccompThreadKind.DeviceWorker);
            while (!Loop.StopRequested)
            {
                if (Pass() || !ReadyToSleep()) continue;
                Loop.Wait(ready);
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
        DrainEngine();
    }

    /// <summary>The boundary: count, report, mark the device broken. Nothing thrown here leaves the thread.</summary>
    private void Fail(Exception e)
    {
        Interlocked.Increment(ref _faults);
        string reason = string.IsNullOrWhiteSpace(e.Message) ? "internal error" : e.Message;
        _failure = reason;
        DeviceFaultLog.Shared.Report(Name, reason);
        try { OnFailed(reason); }
        catch (Exception again) { DeviceFaultLog.Shared.Report(Name, "could not mark the device broken: " + again.Message); }
    }

    /// <summary>
    /// Reaps and drops every request still in the engine; waits on its completion eventfd, never spins. A healthy
    /// engine has submitted everything it accepted, so this ends when the kernel does. After a failure the engine
    /// may hold prepared requests its failed Submit never handed over: they are submitted once more, and if the
    /// kernel still has not finished after FailedDrainLimit the worker gives up (reported) rather than hang a reset.
    /// </summary>
    private void DrainEngine()
    {
        if (_engine is null) return;
        bool failed = _failure is not null;
        long deadline = Environment.TickCount64 + (long)FailedDrainLimit.TotalMilliseconds;
        try
        {
            if (failed && _engine.InFlight > 0) _engine.Submit();
            while (_engine.InFlight > 0)
            {
                _engine.AcknowledgeCompletionSignal();
                if (_engine.Reap(_drained) > 0) continue;
                if (failed && Environment.TickCount64 > deadline)
                {
                    DeviceFaultLog.Shared.Report(Name, $"{_engine.InFlight} requests did not complete after the failure; abandoned");
                    return;
                }
                EventLoop.WaitReadable(_engine.CompletionEventFd, DrainWaitMs);
            }
        }
        catch (Exception e)
        {
            DeviceFaultLog.Shared.Report(Name, "draining in-flight I/O failed: " + e.Message);
        }
    }
}
