using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>Registers and the enable / reset / shutdown state machine (NVMe 1.4 §3.1, §7.6; device-semantics A2-A3).</summary>
public sealed class NvmeControllerStateTests : IDisposable
{
    private readonly NvmeHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void Capabilities_and_version_describe_what_we_implement()
    {
        ulong cap = _h.Read64(NvmeRegisters.Cap);
        Assert.Equal(255UL, cap & 0xFFFF);                 // MQES: 256 entries, 0-based
        Assert.Equal(1UL, (cap >> 16) & 1);                 // CQR
        Assert.Equal((ulong)NvmeController.TimeoutHalfSeconds, (cap >> 24) & 0xFF);
        Assert.Equal(0UL, (cap >> 32) & 0xF);               // DSTRD
        Assert.Equal(1UL, (cap >> 37) & 0xFF);              // CSS: NVM only
        Assert.Equal(0UL, (cap >> 48) & 0xFF);              // MPSMIN = MPSMAX = 0
        Assert.Equal((uint)cap, _h.Read32(0));
        Assert.Equal((uint)(cap >> 32), _h.Read32(4));
        Assert.Equal(0x00010400u, _h.Read32(NvmeRegisters.Version));
        Assert.Equal(0u, _h.Read32(0x40));                  // reserved: zero
        Assert.Equal(0u, _h.Read32(0x1000));                // doorbells read as zero
    }

    [Fact]
    public void Pci_identity_is_nvme_class_with_a_64_bit_16KiB_bar_pcie_and_msix()
    {
        var c = _h.Controller.Config;
        Assert.Equal(0x01, c.Get8(0x0B));
        Assert.Equal(0x08, c.Get8(0x0A));
        Assert.Equal(0x02, c.Get8(0x09));
        var bar = Assert.Single(_h.Controller.Bars);
        Assert.True(bar.Is64Bit);
        Assert.True(bar.Size >= 16384);
        var caps = new List<byte>();
        for (int at = c.Get8(0x34); at != 0; at = c.Get8(at + 1)) caps.Add(c.Get8(at));
        Assert.Equal([(byte)0x10, (byte)0x11], caps);
        Assert.Equal(5, _h.Controller.MsiX.VectorCount); // admin + 4 I/O CQs
    }

    [Fact]
    public void Enable_with_valid_admin_queues_sets_ready()
    {
        Assert.Equal(NvmeRegisters.CstsReady, _h.Enable());
        Assert.NotNull(_h.Controller.Processor);
        Assert.Equal(NvmeHarness.CcEnabled, _h.Read32(NvmeRegisters.Cc));
        Assert.Equal(NvmeHarness.AdminSq, _h.Read64(NvmeRegisters.Asq));
    }

    public static TheoryData<string, ushort, uint, ulong, ulong> BadEnables => new()
    {
        { "ASQ not page aligned", 32, NvmeHarness.CcEnabled, NvmeHarness.AdminSq + 8, NvmeHarness.AdminCq },
        { "ACQ not page aligned", 32, NvmeHarness.CcEnabled, NvmeHarness.AdminSq, NvmeHarness.AdminCq + 0x100 },
        { "one-entry admin queues", 1, NvmeHarness.CcEnabled, NvmeHarness.AdminSq, NvmeHarness.AdminCq },
        { "MPS 8 KiB", 32, NvmeHarness.CcEnabled | (1 << 7), NvmeHarness.AdminSq, NvmeHarness.AdminCq },
        { "CSS not NVM", 32, NvmeHarness.CcEnabled | (7 << 4), NvmeHarness.AdminSq, NvmeHarness.AdminCq },
        { "AMS vendor", 32, NvmeHarness.CcEnabled | (7 << 11), NvmeHarness.AdminSq, NvmeHarness.AdminCq },
        { "ASQ outside RAM", 32, NvmeHarness.CcEnabled, 0xC000_0000, NvmeHarness.AdminCq },
        { "ACQ at the end of RAM", 32, NvmeHarness.CcEnabled, NvmeHarness.AdminSq, NvmeHarness.RamSize - 0x100 },
    };

    [Theory]
    [MemberData(nameof(BadEnables))]
    public void Enable_with_bad_admin_setup_sets_fatal_status_not_ready(string why, ushort entries, uint cc, ulong asq, ulong acq)
    {
        Assert.NotNull(why);
        uint csts = _h.Enable(entries, cc, asq, acq);
        Assert.Equal(NvmeRegisters.CstsFatal, csts);
        Assert.Null(_h.Controller.Processor);
        // Only a reset clears it, after which a good enable works.
        _h.Disable();
        Assert.Equal(0u, _h.Csts);
        Assert.Equal(NvmeRegisters.CstsReady, _h.Enable());
    }

    [Fact]
    public void Doorbells_before_ready_are_ignored()
    {
        _h.Write32(0x1000, 5);
        Assert.Equal(0, _h.Controller.Counters.MmioDoorbells);
        _h.Enable();
        _h.Service(); // nothing fetched: the value written before RDY is gone
        Assert.Equal(0, _h.Controller.Counters.AdminCommands);
    }

    [Fact]
    public void Sub_dword_and_misaligned_register_writes_are_ignored()
    {
        _h.Controller.RegisterWrite(NvmeRegisters.Cc, [1]);
        _h.Controller.RegisterWrite(NvmeRegisters.Aqa + 2, [1, 0, 0, 0]);
        Assert.Equal(0u, _h.Read32(NvmeRegisters.Cc));
        Assert.Equal(0u, _h.Read32(NvmeRegisters.Aqa));
        Assert.Equal(0u, _h.Csts);
    }

    [Fact]
    public void Csts_and_cap_are_read_only()
    {
        _h.Write32(NvmeRegisters.Csts, 0xFFFF_FFFF);
        _h.Write64(NvmeRegisters.Cap, 0);
        Assert.Equal(0u, _h.Csts);
        Assert.NotEqual(0UL, _h.Read64(NvmeRegisters.Cap));
    }

    [Fact]
    public void Interrupt_mask_set_and_clear_registers()
    {
        _h.Write32(NvmeRegisters.Intms, 0b101);
        _h.Write32(NvmeRegisters.Intmc, 0b001);
        Assert.Equal(0b100u, _h.Read32(NvmeRegisters.Intms));
        Assert.Equal(0b100u, _h.Read32(NvmeRegisters.Intmc));
    }

    [Fact]
    public void Page_size_fields_are_latched_while_enabled()
    {
        _h.Enable();
        _h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled | (3 << 7));
        Assert.Equal(0, NvmeRegisters.CcMps(_h.Read32(NvmeRegisters.Cc)));
        Assert.Equal(NvmeRegisters.CstsReady, _h.Csts);
    }

    [Fact]
    public void Reset_forgets_queues_and_clears_status()
    {
        _h.Enable();
        Assert.Equal((0, 0), _h.CreateQueuePair(1));
        _h.Disable();
        Assert.Equal(0u, _h.Csts);
        Assert.Null(_h.Controller.Processor);
        Assert.Equal(0u, _h.Read32(NvmeRegisters.Intms));
        // After re-enable queue 1 does not exist: Delete SQ 1 is an invalid queue id, and creating it works again.
        _h.Enable();
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.Admin(NvmeAdminOpcode.DeleteIoSq, cdw10: 1).Status);
        Assert.Equal((0, 0), _h.CreateQueuePair(1));
    }

    [Fact]
    public void Reset_with_io_in_flight_drains_it_and_posts_nothing_afterwards()
    {
        _h.Enable();
        _h.CreateQueuePair(1);
        for (int i = 0; i < 16; i++)
            _h.Submit(1, NvmeIoOpcode.Read, 1, prp1: NvmeHarness.Data + (ulong)i * 4096, cdw10: (uint)i * 8, cdw12: 7);
        _h.Controller.Processor!.Service(); // fetched and handed to the engine, not reaped
        _h.Disable();
        Assert.Equal(0u, _h.Csts);
        // The CQ stays as it was when RDY went to 0: nothing landed after the reset returned.
        var before = _h.Ram(NvmeHarness.CqBase(1), 64 * 16).ToArray();
        Thread.Sleep(20);
        Assert.Equal(before, _h.Ram(NvmeHarness.CqBase(1), 64 * 16).ToArray());
    }

    [Fact]
    public void Shutdown_flushes_the_backend_before_reporting_complete()
    {
        _h.Enable();
        _h.CreateQueuePair(1);
        _h.Ram(NvmeHarness.Data, 4096).Fill(0x5A);
        Assert.Equal(0, _h.Io(1, NvmeIoOpcode.Write, prp1: NvmeHarness.Data, cdw12: 7).Status);
        _h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled | (1 << 14));
        Assert.Equal(NvmeRegisters.CstsShutdownProcessing, _h.Csts & NvmeRegisters.CstsShutdownMask);
        _h.Settle();
        Assert.True(_h.Controller.Processor!.ShutdownDone);
        Assert.Equal(NvmeRegisters.CstsShutdownComplete, _h.Csts & NvmeRegisters.CstsShutdownMask);
        Assert.Equal(0x5A, _h.FileBytes(0, 1)[0]);
        // SHN back to 0 clears SHST; re-enable needs a reset.
        _h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled);
        Assert.Equal(0u, _h.Csts & NvmeRegisters.CstsShutdownMask);
    }

    [Fact]
    public void Shutdown_while_disabled_flushes_synchronously()
    {
        _h.Write32(NvmeRegisters.Cc, 1 << 14);
        Assert.Equal(1, _h.Flushes);
        Assert.Equal(NvmeRegisters.CstsShutdownComplete, _h.Csts);
    }

    [Fact]
    public void Shutdown_fetches_no_new_commands()
    {
        _h.Enable();
        _h.CreateQueuePair(1);
        _h.Write32(NvmeRegisters.Cc, NvmeHarness.CcEnabled | (1 << 14));
        _h.Settle();
        long before = _h.Controller.Counters.IoCommands;
        _h.Submit(1, NvmeIoOpcode.Flush, 1);
        _h.Settle();
        Assert.Equal(before, _h.Controller.Counters.IoCommands);
    }
}
