using System.Buffers.Binary;
using System.Text;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>Admin commands and their exact statuses for bad input (NVMe 1.4 §5; device-semantics A6-A8).</summary>
public sealed class NvmeAdminCommandTests : IDisposable
{
    private const ulong Buf = NvmeHarness.Data;
    private readonly NvmeHarness _h = new();

    public NvmeAdminCommandTests() => Assert.Equal(NvmeRegisters.CstsReady, _h.Enable());

    public void Dispose() => _h.Dispose();

    private ushort Create(byte opcode, uint qid, uint entries, uint cdw11, ulong prp1) =>
        _h.Admin(opcode, prp1: prp1, cdw10: qid | ((entries - 1) << 16), cdw11: cdw11).Status;

    [Fact]
    public void Identify_controller_fields_a_linux_driver_reads()
    {
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.Identify, prp1: Buf, cdw10: NvmeIdentify.CnsController).Status);
        var id = _h.Ram(Buf, 4096);
        Assert.Equal(NvmeController.Vendor, BinaryPrimitives.ReadUInt16LittleEndian(id));
        Assert.Equal(NvmeController.Vendor, BinaryPrimitives.ReadUInt16LittleEndian(id[2..]));
        Assert.Equal(NvmeHarness.Serial.PadRight(20), Encoding.ASCII.GetString(id.Slice(4, 20)));
        Assert.Equal("Bhyve.Aot NVMe".PadRight(40), Encoding.ASCII.GetString(id.Slice(24, 40)));
        Assert.Equal("1.0".PadRight(8), Encoding.ASCII.GetString(id.Slice(64, 8)));
        Assert.Equal(NvmeIdentity.DefaultMdts, id[77]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(id[78..]));
        Assert.Equal(0x00010400u, BinaryPrimitives.ReadUInt32LittleEndian(id[80..]));
        Assert.Equal(1 << 8, BinaryPrimitives.ReadUInt16LittleEndian(id[256..]) & (1 << 8)); // OACS: doorbell buffer config
        Assert.Equal(3, id[259]);
        Assert.Equal(0x66, id[512]);
        Assert.Equal(0x44, id[513]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(id[516..]));
        ushort oncs = BinaryPrimitives.ReadUInt16LittleEndian(id[520..]);
        Assert.Equal(_h.Namespace.Dsm, (oncs & NvmeIdentify.OncsDsm) != 0);
        Assert.Equal(_h.Namespace.WriteZeroes, (oncs & NvmeIdentify.OncsWriteZeroes) != 0);
        Assert.Equal(1, id[525] & 1);
        Assert.StartsWith("nqn.", Encoding.ASCII.GetString(id.Slice(768, 8)));
    }

    [Fact]
    public void Identify_namespace_list_and_descriptors_agree()
    {
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.Identify, nsid: 1, prp1: Buf, cdw10: NvmeIdentify.CnsNamespace).Status);
        var ns = _h.Ram(Buf, 4096).ToArray();
        ulong blocks = (4 << 20) / 512;
        Assert.Equal(blocks, BinaryPrimitives.ReadUInt64LittleEndian(ns));
        Assert.Equal(blocks, BinaryPrimitives.ReadUInt64LittleEndian(ns.AsSpan(8)));
        Assert.Equal(blocks, BinaryPrimitives.ReadUInt64LittleEndian(ns.AsSpan(16)));
        Assert.Equal(9u, (BinaryPrimitives.ReadUInt32LittleEndian(ns.AsSpan(128)) >> 16) & 0xFF);
        Assert.Equal(_h.Namespace.DeallocateWorks ? 0x09 : 0, ns[33]);
        Assert.Contains(ns.AsSpan(104, 16).ToArray(), b => b != 0);

        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.Identify, nsid: 1, prp1: Buf, cdw10: NvmeIdentify.CnsDescriptors).Status);
        var d = _h.Ram(Buf, 64).ToArray();
        Assert.Equal([1, 8], d[..2]);
        Assert.Equal(ns.AsSpan(120, 8).ToArray(), d.AsSpan(4, 8).ToArray());
        Assert.Equal([2, 16], d[12..14]);
        Assert.Equal(ns.AsSpan(104, 16).ToArray(), d.AsSpan(16, 16).ToArray());
        Assert.Equal(0, d[32]);

        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.Identify, nsid: 0, prp1: Buf, cdw10: NvmeIdentify.CnsActiveNamespaces).Status);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(_h.Ram(Buf, 4)));
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.Identify, nsid: 1, prp1: Buf, cdw10: NvmeIdentify.CnsActiveNamespaces).Status);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(_h.Ram(Buf, 4)));
    }

    [Theory]
    [InlineData(NvmeIdentify.CnsNamespace, 0u, NvmeStatus.InvalidNamespace)]
    [InlineData(NvmeIdentify.CnsNamespace, 2u, NvmeStatus.InvalidNamespace)]
    [InlineData(NvmeIdentify.CnsNamespace, 0xFFFF_FFFFu, NvmeStatus.InvalidNamespace)]
    [InlineData(NvmeIdentify.CnsActiveNamespaces, 0xFFFF_FFFEu, NvmeStatus.InvalidNamespace)]
    [InlineData(NvmeIdentify.CnsDescriptors, 3u, NvmeStatus.InvalidNamespace)]
    [InlineData((byte)0x10, 0u, NvmeStatus.InvalidField)]
    public void Identify_rejects_bad_namespaces_and_unknown_cns(byte cns, uint nsid, ushort status)
    {
        Assert.Equal(status, _h.Admin(NvmeAdminOpcode.Identify, nsid: nsid, prp1: Buf, cdw10: cns).Status);
    }

    [Fact]
    public void Identify_into_memory_outside_RAM_is_a_data_transfer_error()
    {
        Assert.Equal(NvmeStatus.DataTransferError, _h.Admin(NvmeAdminOpcode.Identify, prp1: 0xC000_0000, cdw10: 1).Status);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, _h.Admin(NvmeAdminOpcode.Identify, prp1: Buf + 0x800, prp2: Buf + 0x2010, cdw10: 1).Status);
    }

    [Fact]
    public void Unknown_admin_opcode_fused_or_sgl_commands_are_refused()
    {
        Assert.Equal(NvmeStatus.InvalidOpcode, _h.Admin(0x80).Status);  // Format NVM: not offered
        Assert.Equal(NvmeStatus.InvalidOpcode, _h.Admin(0xC1).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.Identify, prp1: Buf, cdw10: 1, dw0Flags: 1 << 8).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.Identify, prp1: Buf, cdw10: 1, dw0Flags: 1 << 14).Status);
    }

    [Fact]
    public void Create_cq_checks_id_size_contiguity_alignment_and_vector()
    {
        ulong cq = NvmeHarness.CqBase(1);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoCq, 0, 16, 3, cq));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoCq, 5, 16, 3, cq));
        Assert.Equal(NvmeStatus.InvalidQueueSize, Create(NvmeAdminOpcode.CreateIoCq, 1, 1, 3, cq));
        Assert.Equal(NvmeStatus.InvalidQueueSize, Create(NvmeAdminOpcode.CreateIoCq, 1, 257, 3, cq));
        Assert.Equal(NvmeStatus.InvalidField, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 2, cq));              // PC = 0
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 3, cq + 0x10));
        Assert.Equal(NvmeStatus.InvalidInterruptVector, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 3 | (5u << 16), cq));
        Assert.Equal(NvmeStatus.InvalidField, Create(NvmeAdminOpcode.CreateIoCq, 1, 256, 3, 0xC000_0000));
        Assert.Equal(NvmeStatus.Success, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 3 | (4u << 16), cq));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 3, cq)); // in use
    }

    [Fact]
    public void Create_sq_checks_its_cq_id_size_and_alignment()
    {
        ulong sq = NvmeHarness.SqBase(1);
        Assert.Equal(NvmeStatus.CompletionQueueInvalid, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1 | (1u << 16), sq));
        Assert.Equal(NvmeStatus.CompletionQueueInvalid, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1, sq)); // CQ 0 is the admin CQ
        Assert.Equal(NvmeStatus.Success, Create(NvmeAdminOpcode.CreateIoCq, 1, 16, 3, NvmeHarness.CqBase(1)));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoSq, 0, 16, 1 | (1u << 16), sq));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoSq, 9, 16, 1 | (1u << 16), sq));
        Assert.Equal(NvmeStatus.InvalidQueueSize, Create(NvmeAdminOpcode.CreateIoSq, 1, 1, 1 | (1u << 16), sq));
        Assert.Equal(NvmeStatus.InvalidField, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1u << 16, sq));
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1 | (1u << 16), sq + 4));
        Assert.Equal(NvmeStatus.Success, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1 | (1u << 16), sq));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, Create(NvmeAdminOpcode.CreateIoSq, 1, 16, 1 | (1u << 16), sq));
    }

    [Fact]
    public void Delete_checks_ids_and_cq_references()
    {
        Assert.Equal((0, 0), _h.CreateQueuePair(1));
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.Admin(NvmeAdminOpcode.DeleteIoSq, cdw10: 0).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.Admin(NvmeAdminOpcode.DeleteIoSq, cdw10: 2).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.Admin(NvmeAdminOpcode.DeleteIoCq, cdw10: 0).Status);
        Assert.Equal(NvmeStatus.InvalidQueueDeletion, _h.Admin(NvmeAdminOpcode.DeleteIoCq, cdw10: 1).Status);
        Assert.Equal(NvmeStatus.Success, _h.Admin(NvmeAdminOpcode.DeleteIoSq, cdw10: 1).Status);
        Assert.Equal(NvmeStatus.Success, _h.Admin(NvmeAdminOpcode.DeleteIoCq, cdw10: 1).Status);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.Admin(NvmeAdminOpcode.DeleteIoCq, cdw10: 1).Status);
    }

    [Fact]
    public void Deleting_an_sq_with_io_in_flight_completes_that_io_first()
    {
        _h.CreateQueuePair(1);
        ushort read = _h.Submit(1, NvmeIoOpcode.Read, 1, prp1: NvmeHarness.Data, cdw12: 7);
        _h.Service(); // the read is with the engine
        ushort delete = _h.Submit(0, NvmeAdminOpcode.DeleteIoSq, cdw10: 1);
        var first = _h.Wait(1);
        Assert.Equal(read, first.CommandId);
        var deleted = _h.Wait(0);
        Assert.Equal(delete, deleted.CommandId);
        Assert.Equal(0, deleted.Status);
    }

    [Fact]
    public void Number_of_queues_is_clamped_then_fixed_once_queues_exist()
    {
        var set = _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.NumberOfQueues, cdw11: 63 | (63u << 16));
        Assert.Equal(0, set.Status);
        Assert.Equal(3u | (3u << 16), set.Result); // 4 and 4, 0-based
        var get = _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: NvmeFeatures.NumberOfQueues);
        Assert.Equal(set.Result, get.Result);
        _h.CreateQueuePair(1);
        Assert.Equal(NvmeStatus.CommandSequenceError, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.NumberOfQueues, cdw11: 0).Status);
    }

    [Fact]
    public void Number_of_queues_limits_which_queue_ids_exist()
    {
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.NumberOfQueues, cdw11: 0xFFFF).Status);
        Assert.Equal(0u, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.NumberOfQueues, cdw11: 0).Result);
        Assert.Equal(NvmeStatus.InvalidQueueIdentifier, _h.CreateQueuePair(2).Cq);
        Assert.Equal(NvmeStatus.CommandSequenceError, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.NumberOfQueues, cdw11: 1).Status);
    }

    [Theory]
    [InlineData(NvmeFeatures.VolatileWriteCache, 0u)]
    [InlineData(NvmeFeatures.InterruptCoalescing, 0x0A05u)]
    [InlineData(NvmeFeatures.AsyncEventConfig, 0x1FFu)]
    [InlineData(NvmeFeatures.Arbitration, 0x03u)]
    [InlineData(NvmeFeatures.TemperatureThreshold, 0x0160u)]
    [InlineData(NvmeFeatures.InterruptVectorConfig, 0x10003u)]
    public void Features_store_what_is_set(byte fid, uint value)
    {
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: fid, cdw11: value).Status);
        uint sel = fid == NvmeFeatures.InterruptVectorConfig ? value & 0xFFFF : 0;
        var get = _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: fid, cdw11: sel);
        Assert.Equal(0, get.Status);
        Assert.Equal(value, get.Result);
    }

    [Fact]
    public void Feature_errors()
    {
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: 0x7F).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: 0x7F).Status);
        Assert.Equal(NvmeStatus.FeatureNotSaveable, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.Arbitration | (1u << 31)).Status);
        Assert.Equal(NvmeStatus.FeatureNotNamespaceSpecific, _h.Admin(NvmeAdminOpcode.SetFeatures, nsid: 1, cdw10: NvmeFeatures.Arbitration).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.AsyncEventConfig, cdw11: 1u << 14).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.InterruptVectorConfig, cdw11: 9).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.SetFeatures, cdw10: NvmeFeatures.PowerManagement, cdw11: 1).Status);
        // Select 1 (default) and 3 (capabilities).
        Assert.Equal(1u, _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: NvmeFeatures.VolatileWriteCache | (1u << 8)).Result);
        Assert.Equal(4u, _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: NvmeFeatures.VolatileWriteCache | (3u << 8)).Result);
    }

    [Fact]
    public void Log_pages_error_smart_firmware_and_bad_requests()
    {
        _h.Ram(Buf, 4096).Fill(0xEE);
        uint dwords = 512 / 4 - 1;
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2 | (dwords << 16)).Status);
        var smart = _h.Ram(Buf, 512);
        Assert.Equal(296, BinaryPrimitives.ReadUInt16LittleEndian(smart[1..]));
        Assert.Equal(100, smart[3]);
        Assert.Equal(0xEE, _h.Ram(Buf + 512, 1)[0]); // nothing past the log

        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 3 | (dwords << 16)).Status);
        Assert.Equal(1, _h.Ram(Buf, 1)[0]);
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 1 | (15u << 16)).Status);

        Assert.Equal(NvmeStatus.InvalidLogPage, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 0x70 | (15u << 16)).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2, cdw12: 2).Status);   // not dword aligned
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2, cdw12: 512).Status); // past the end
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2, cdw13: 1).Status);  // 2^32 offset
        // Offset inside: transfers only to the log's end.
        _h.Ram(Buf, 4096).Fill(0xEE);
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2 | (dwords << 16), cdw12: 508).Status);
        Assert.Equal(0xEE, _h.Ram(Buf + 4, 1)[0]);
    }

    [Fact]
    public void Smart_log_counts_data_units_and_commands()
    {
        _h.CreateQueuePair(1);
        for (int i = 0; i < 4; i++) Assert.Equal(0, _h.Io(1, NvmeIoOpcode.Write, prp1: Buf, cdw10: (uint)i * 8, cdw12: 7).Status);
        Assert.Equal(0, _h.Io(1, NvmeIoOpcode.Read, prp1: Buf, cdw12: 7).Status);
        Assert.Equal(0, _h.Admin(NvmeAdminOpcode.GetLogPage, prp1: Buf, cdw10: 2 | (127u << 16)).Status);
        var smart = _h.Ram(Buf, 512);
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(smart[32..]));  // 8 sectors read -> 1 (rounded up)
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(smart[48..]));  // 32 sectors written -> 1
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(smart[64..]));
        Assert.Equal(4UL, BinaryPrimitives.ReadUInt64LittleEndian(smart[80..]));
    }

    [Fact]
    public void Async_event_requests_park_up_to_the_limit_and_abort_reports_not_aborted()
    {
        for (int i = 0; i < 4; i++) _h.Submit(0, NvmeAdminOpcode.AsyncEventRequest);
        _h.Service();
        Assert.False(_h.TryReap(0, out _));
        Assert.Equal(NvmeStatus.AerLimitExceeded, _h.Admin(NvmeAdminOpcode.AsyncEventRequest).Status);
        var abort = _h.Admin(NvmeAdminOpcode.Abort, cdw10: 1);
        Assert.Equal(0, abort.Status);
        Assert.Equal(1u, abort.Result & 1);
    }

    [Fact]
    public void Completions_report_sq_head_and_id()
    {
        var c = _h.Admin(NvmeAdminOpcode.GetFeatures, cdw10: NvmeFeatures.Arbitration);
        Assert.Equal(0, c.SqId);
        Assert.Equal(_h.SqTail(0), c.SqHead);
    }

    [Fact]
    public void Doorbell_buffer_config_checks_pages_and_binds_io_doorbells()
    {
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.DoorbellBufferConfig, prp1: NvmeHarness.ShadowPage + 8, prp2: NvmeHarness.EventIdxPage).Status);
        Assert.Equal(NvmeStatus.InvalidField, _h.Admin(NvmeAdminOpcode.DoorbellBufferConfig, prp1: NvmeHarness.ShadowPage, prp2: 0xC000_0000).Status);
        Assert.Empty(_h.Binder.Bound);
        // The BAR is not mapped in this harness: binding waits for a mapping, so nothing is bound yet either.
        Assert.Equal(0, _h.ConfigureShadow());
        Assert.True(_h.Controller.Processor!.ShadowActive);
        // The admin tail is mirrored into the shadow.
        Assert.Equal(_h.SqTail(0), _h.ShadowSlot(NvmeHarness.ShadowPage, 0));
        _h.Disable();
        _h.Enable();
        Assert.False(_h.Controller.Processor!.ShadowActive); // forgotten on reset (openvmm #4080)
    }
}
