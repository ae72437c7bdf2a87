using Bhyve.Aot.Tests.Support;
using Bhyve.Aot.Vmm;
using Xunit;

namespace Bhyve.Aot.Tests.Vmm;

/// <summary>
/// The lifecycle every machine type shares, run in-process through the KVM seam (scripted vCPUs): a shutdown request
/// presses the ACPI power button and a guest that honours it powers off; one that does not is stopped after the
/// timeout; teardown runs vCPUs, then devices, then the console; a failed flush changes the status; pause parks
/// every vCPU and resume lets them continue.
/// </summary>
public sealed class MachineLifecycleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static Task<VmExit> RunAsync(TestMachine m, TimeSpan? shutdownTimeout = null) =>
        Task.Run(() => m.Run(Stream.Null, null, new MachineRunOptions { ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10) }));

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task A_shutdown_request_presses_the_power_button_and_a_polling_guest_powers_off_with_status_0()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.PollingGuest()));
        var run = RunAsync(m);
        await WaitUntil(() => m.Cpus.Count == 1 && m.Cpus[0].Runs > 10);
        m.RequestShutdown("SIGTERM");
        var exit = await run.WaitAsync(Bound);
        Assert.Equal(new VmExit(ExitCodes.PoweredOff, null), exit);
        Assert.Equal(1, m.Ged.Presses);
        Assert.False(m.GedLine.Level);   // the guest's read acknowledged the event and lowered the line
        Assert.Equal(1, m.GedLine.Raised);
        Assert.Equal(["devices stopped after the vCPUs", "console closed"], m.Events);
        Assert.Empty(m.TeardownProblems);
    }

    [Fact]
    public async Task A_guest_that_ignores_the_button_is_stopped_after_the_shutdown_timeout()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.BusyGuest()));
        var run = RunAsync(m, TimeSpan.FromMilliseconds(300));
        await WaitUntil(() => m.Cpus.Count == 1 && m.Cpus[0].Runs > 10);
        var asked = DateTime.UtcNow;
        m.RequestShutdown("SIGTERM");
        var exit = await run.WaitAsync(Bound);
        Assert.True(DateTime.UtcNow - asked >= TimeSpan.FromMilliseconds(290));
        Assert.Equal(ExitCodes.StoppedBySignal, exit.Code);
        Assert.Equal("SIGTERM: the guest did not power off within 0.3 s of the power button; stopped", exit.Message);
        Assert.Equal(["devices stopped after the vCPUs", "console closed"], m.Events);
    }

    [Fact]
    public async Task A_second_request_stops_at_once_but_a_duplicate_delivery_does_not()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.BusyGuest()));
        var run = RunAsync(m, TimeSpan.FromMinutes(5));
        await WaitUntil(() => m.Cpus.Count == 1 && m.Cpus[0].Runs > 10);
        m.RequestShutdown("SIGINT");
        m.RequestShutdown("SIGINT");   // the same signal delivered twice at once (timeout(1), a process-group kill): one request
        await Task.Delay(Machine.SameRequestMs + 200);
        Assert.False(run.IsCompleted);
        m.RequestShutdown("SIGINT");
        var exit = await run.WaitAsync(Bound);
        Assert.Equal(new VmExit(ExitCodes.StoppedBySignal, "SIGINT again: stopped without waiting for the guest"), exit);
    }

    [Fact]
    public async Task Without_a_power_button_a_request_stops_at_once()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.BusyGuest())) { HasPowerButton = false };
        var run = RunAsync(m);
        await WaitUntil(() => m.Cpus.Count == 1 && m.Cpus[0].Runs > 10);
        m.RequestShutdown("SIGTERM");
        var exit = await run.WaitAsync(Bound);
        Assert.Equal(new VmExit(ExitCodes.StoppedBySignal, "SIGTERM: stopped (this machine has no power button)"), exit);
    }

    [Fact]
    public async Task Halted_vCPUs_are_kicked_out_of_KVM_RUN_before_the_devices_stop()
    {
        // vCPU 0 powers off through debug-exit; the other three sit halted inside "KVM_RUN" and must be kicked out.
        int step = 0;
        var m = new TestMachine(i => new ScriptedVcpu(i, i == 0
            ? _ => Interlocked.Increment(ref step) < 50 ? new PortAccess(false, 0x80) : new PortAccess(true, 0x501, 2)
            : TestMachine.HaltedGuest()), cpus: 4);
        var exit = await RunAsync(m).WaitAsync(Bound);
        Assert.Equal(new VmExit(5, null), exit);
        Assert.Equal(["devices stopped after the vCPUs", "console closed"], m.Events);
        Assert.Empty(m.TeardownProblems);
    }

    [Fact]
    public async Task A_failed_flush_at_exit_turns_a_clean_power_off_into_the_teardown_status_with_its_line()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.PollingGuest())) { FlushProblem = "disk a.img: flushing at exit failed (EIO)" };
        var run = RunAsync(m);
        await WaitUntil(() => m.Cpus.Count == 1 && m.Cpus[0].Runs > 10);
        m.RequestShutdown("SIGTERM");
        var exit = await run.WaitAsync(Bound);
        Assert.Equal(new VmExit(ExitCodes.TeardownFailed, "disk a.img: flushing at exit failed (EIO)"), exit);
        Assert.Equal(["disk a.img: flushing at exit failed (EIO)"], m.TeardownProblems);
    }

    [Fact]
    public async Task A_failed_flush_after_a_guest_fault_keeps_the_fault_status_and_adds_the_line()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, _ => new PortAccess(true, 0x600 + 2, 1))) { FlushProblem = "nvme n.img: flushing at exit failed (EIO)" };
        var exit = await RunAsync(m).WaitAsync(Bound);
        Assert.Equal(new VmExit(ExitCodes.Reset, "reset; nvme n.img: flushing at exit failed (EIO)"), exit);
    }

    [Fact]
    public async Task Pause_parks_every_vCPU_and_resume_continues_them()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, TestMachine.BusyGuest()), cpus: 2);
        var run = RunAsync(m);
        await WaitUntil(() => m.Cpus.Count == 2 && m.Cpus.All(c => c.Runs > 10));

        Assert.True(m.Pause(Bound));
        Assert.True(m.IsPaused);
        long[] atPause = m.Cpus.Select(c => c.Runs).ToArray();
        await Task.Delay(100);
        Assert.Equal(atPause, m.Cpus.Select(c => c.Runs).ToArray());   // nothing ran while paused

        m.Resume();
        Assert.False(m.IsPaused);
        await WaitUntil(() => m.Cpus.Select((c, i) => c.Runs > atPause[i] + 10).All(x => x));

        // A stop while paused ends the run too.
        Assert.True(m.Pause(Bound));
        m.Stop(new VmExit(ExitCodes.PoweredOff, null));
        Assert.Equal(new VmExit(ExitCodes.PoweredOff, null), await run.WaitAsync(Bound));
    }

    [Fact]
    public async Task Pause_also_parks_a_halted_vCPU()
    {
        var m = new TestMachine(i => new ScriptedVcpu(i, i == 0 ? TestMachine.BusyGuest() : TestMachine.HaltedGuest()), cpus: 2);
        var run = RunAsync(m);
        await WaitUntil(() => m.Cpus.Count == 2 && m.Cpus[0].Runs > 10);
        Assert.True(m.Pause(Bound));
        m.Resume();
        m.Stop(new VmExit(ExitCodes.PoweredOff, null));
        Assert.Equal(ExitCodes.PoweredOff, (await run.WaitAsync(Bound)).Code);
    }
}
