using System.Buffers.Binary;
using Bhyve.Aot.Devices;
using Bhyve.Aot.Devices.Bus;
using Bhyve.Aot.Devices.Pci;
using Bhyve.Aot.Devices.Virtio;
using Bhyve.Aot.Os;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Virtio;

/// <summary>
/// The transport's status machine with a device that runs a real worker thread: reset and activation never
/// interleave, a device is activated at most once per DRIVER_OK, a failed start and an oversized queue are refused.
/// </summary>
public sealed class VirtioPciTransportLifecycleTests : IDisposable
{
    private const byte Ack = VirtioPciTransport.StatusAcknowledge, Drv = VirtioPciTransport.StatusDriver;
    private const byte FeaturesOk = VirtioPciTransport.StatusFeaturesOk, DriverOk = VirtioPciTransport.StatusDriverOk;

    /// <summary>A device whose activation starts a thread and whose reset stops it; it records every misuse.</summary>
    private sealed class WorkerDevice : IVirtioDevice
    {
        private readonly Lock _lock = new();
        private Thread? _worker;
        private volatile bool _stop;
        public Func<byte> Status = () => 0;
        public Exception? FailActivation;
        public int Activations, Violations;
        public string? FirstViolation;

        public ushort DeviceType => 2;
        public ulong DeviceFeatures => 1UL << VirtioFeatures.Version1;
        public int QueueCount => 1;
        public ushort MaxQueueSize => 64;
        public int ConfigSize => 4;
        public void ReadConfig(int offset, Span<byte> data) => data.Clear();
        public void WriteConfig(int offset, ReadOnlySpan<byte> data) { }

        public bool WorkerAlive { get { lock (_lock) return _worker?.IsAlive ?? false; } }

        private void Violation(string what)
        {
            Interlocked.Increment(ref Violations);
            Interlocked.CompareExchange(ref FirstViolation, what, null);
        }

        public void Activate(VirtioActivation activation)
        {
            if (FailActivation is { } e) throw e;
            if ((Status() & DriverOk) == 0) Violation($"activated while status is 0x{Status():x2}");
            lock (_lock)
            {
                if (_worker is not null) Violation("activated twice without a reset");
                _stop = false;
                _worker = new Thread(() => { while (!_stop) Thread.Sleep(1); }) { IsBackground = true };
                _worker.Start();
                Activations++;
            }
        }

        public void Reset()
        {
            lock (_lock)
            {
                if (_worker is null) return;
                _stop = true;
                _worker.Join();
                _worker = null;
            }
        }
    }

    private sealed class NullBinder : IDoorbellBinder
    {
        public void Bind(ulong address, uint length, EventFd target) { }
        public void Unbind(ulong address, uint length, EventFd target) { }
    }

    private sealed class NullSink : IMsiSink
    {
        public void Route(int vector, ulong address, uint data) { }
        public void Fire(int vector) { }
    }

    private readonly FakeRam _ram = FakeVirtqDriver.NewRam();
    private readonly IoBus _mmio = new("mmio");
    private readonly WorkerDevice _device = new();
    private readonly VirtioPciTransport _t;
    private readonly ulong _bar;

    public VirtioPciTransportLifecycleTests()
    {
        _t = new VirtioPciTransport(_device, _ram.Memory, new NullSink(), new NullBinder());
        new PciRoot(_mmio).Attach(1, _t);
        _t.ConfigWrite(PciConfigSpace.Command, BitConverter.GetBytes(PciConfigSpace.CommandMemory));
        _bar = _t.BarAddress(0);
        _device.Status = () => _t.Status;
    }

    public void Dispose()
    {
        SetStatus(0);
        _ram.Dispose();
    }

    private void Write(uint offset, ulong value, int length)
    {
        var b = BitConverter.GetBytes(value);
        _mmio.Write(_bar + offset, b.AsSpan(0, length));
    }

    private byte ReadStatus()
    {
        Span<byte> b = stackalloc byte[1];
        _mmio.Read(_bar + 0x14, b);
        return b[0];
    }

    private void SetStatus(byte s) => Write(0x14, s, 1);

    /// <summary>The driver's whole initialisation (§3.1.1), ending with DRIVER_OK.</summary>
    private void Initialise(ushort queueSize = 16)
    {
        SetStatus(Ack);
        SetStatus(Ack | Drv);
        Write(0x08, 1, 4);
        Write(0x0C, 1, 4); // VERSION_1 (bit 32)
        SetStatus(Ack | Drv | FeaturesOk);
        Write(0x16, 0, 2);
        Write(0x18, queueSize, 2);
        Write(0x20, FakeVirtqDriver.DescAt, 8);
        Write(0x28, FakeVirtqDriver.AvailAt, 8);
        Write(0x30, FakeVirtqDriver.UsedAt, 8);
        Write(0x1C, 1, 2);
        SetStatus(Ack | Drv | FeaturesOk | DriverOk);
    }

    [Fact]
    public void Reset_and_DRIVER_OK_from_two_threads_never_leave_a_worker_running_after_reset()
    {
        const int Rounds = 2000;
        int stale = 0;
        var driver = new Thread(() => { for (int i = 0; i < Rounds; i++) Initialise(); });
        var resetter = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                SetStatus(0);
                // Status reads 0 twice around the check: no activation can have happened in between (it would have
                // set DRIVER_OK, and only this thread resets), so a live worker here outlived a completed reset.
                byte before = ReadStatus();
                bool alive = _device.WorkerAlive;
                if (before == 0 && ReadStatus() == 0 && alive) Interlocked.Increment(ref stale);
            }
        });
        driver.Start();
        resetter.Start();
        Assert.True(driver.Join(60_000) && resetter.Join(60_000), "the race test did not finish");

        Assert.Equal(0, stale);
        Assert.True(_device.Violations == 0, _device.FirstViolation);
        Assert.True(_device.Activations > 0, "no activation happened: the test exercised nothing");
        SetStatus(0);
        Assert.False(_device.WorkerAlive);
        Assert.Equal(0, ReadStatus());
    }

    [Fact]
    public void A_second_DRIVER_OK_without_a_reset_does_not_activate_again()
    {
        Initialise();
        SetStatus(Ack | Drv | FeaturesOk | DriverOk);
        SetStatus(Ack | Drv | FeaturesOk);
        SetStatus(Ack | Drv | FeaturesOk | DriverOk);
        Assert.Equal(1, _device.Activations);
        Assert.Equal(0, _device.Violations);
    }

    [Fact]
    public void A_queue_size_above_the_device_maximum_is_refused_at_DRIVER_OK()
    {
        Initialise(queueSize: 128); // the device offers at most 64
        Assert.NotEqual(0, ReadStatus() & VirtioPciTransport.StatusNeedsReset);
        Assert.Equal(0, _device.Activations);
        Assert.Contains("above the device's maximum 64", _t.LastError);
        SetStatus(0);
        Initialise(queueSize: 64);
        Assert.Equal(0, ReadStatus() & VirtioPciTransport.StatusNeedsReset);
        Assert.Equal(1, _device.Activations);
    }

    [Fact]
    public void A_device_that_cannot_start_shows_NEEDS_RESET_and_a_reset_recovers_it()
    {
        _device.FailActivation = new IOException("io_uring_setup: Cannot allocate memory");
        Initialise();
        Assert.NotEqual(0, ReadStatus() & VirtioPciTransport.StatusNeedsReset);
        Assert.Contains("Cannot allocate memory", _t.LastError);
        _device.FailActivation = null;
        SetStatus(0);
        Initialise();
        Assert.Equal(Ack | Drv | FeaturesOk | DriverOk, ReadStatus());
        Assert.Equal(1, _device.Activations);
    }
}
