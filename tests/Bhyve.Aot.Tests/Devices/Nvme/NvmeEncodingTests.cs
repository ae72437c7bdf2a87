using System.Buffers.Binary;
using Bhyve.Aot.Devices.Nvme;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>SQE decoding, CQE layout and the status table (NVMe 1.4 §4.2, §4.6).</summary>
public sealed unsafe class NvmeEncodingTests
{
    [Fact]
    public void Submission_fields_decode_from_their_offsets()
    {
        var e = new byte[64];
        for (int i = 0; i < 64; i++) e[i] = (byte)i;
        var c = new NvmeSubmission(e);
        Assert.Equal(0x00u, c.Opcode);
        Assert.Equal(0x0302, c.CommandId);
        Assert.Equal(1, c.Fuse);      // bits 9:8 of 0x0100
        Assert.Equal(0, c.Psdt);
        Assert.Equal(0x07060504u, c.Nsid);
        Assert.Equal(0x1716151413121110UL, c.Mptr);
        Assert.Equal(0x1F1E1D1C1B1A1918UL, c.Prp1);
        Assert.Equal(0x2726252423222120UL, c.Prp2);
        Assert.Equal(0x2B2A2928u, c.Cdw10);
        Assert.Equal(0x2F2E2D2Cu, c.Cdw11);
        Assert.Equal(0x33323130u, c.Cdw12);
        Assert.Equal(0x3F3E3D3Cu, c.Cdw15);
    }

    [Fact]
    public void Read_write_fields_slba_nlb_fua_deac()
    {
        var e = new byte[64];
        NvmeSubmission.Encode(e, NvmeIoOpcode.Write, 0xBEEF, nsid: 1, cdw10: 0x89ABCDEF, cdw11: 0x01234567, cdw12: 0xFFFF | (1u << 30) | (1u << 25), dw0Flags: 0xC000);
        var c = new NvmeSubmission(e);
        Assert.Equal(0x0123456789ABCDEFUL, c.StartLba);
        Assert.Equal(65536u, c.BlockCount); // 0-based in the command
        Assert.True(c.ForceUnitAccess);
        Assert.True(c.Deallocate);
        Assert.Equal(3, c.Psdt);
        Assert.Equal(0xBEEF, c.CommandId);
        Assert.Equal(NvmeIoOpcode.Write, c.Opcode);
    }

    [Fact]
    public void Submission_is_a_copy_the_guest_cannot_change_afterwards()
    {
        var e = new byte[64];
        NvmeSubmission.Encode(e, NvmeIoOpcode.Read, 1, nsid: 1, cdw10: 5);
        var c = new NvmeSubmission(e);
        e[40] = 99;
        Assert.Equal(5u, c.Cdw10);
    }

    [Fact]
    public void Completion_dwords_carry_result_sq_head_sq_id_cid_phase_and_status()
    {
        byte* slot = stackalloc byte[16];
        new Span<byte>(slot, 16).Fill(0xFF);
        NvmeCompletion.Post(slot, 0xCAFEF00D, sqHead: 0x1234, sqId: 7, commandId: 0xABCD, phase: true, NvmeStatus.LbaOutOfRange);
        var s = new ReadOnlySpan<byte>(slot, 16);
        Assert.Equal(0xCAFEF00Du, BinaryPrimitives.ReadUInt32LittleEndian(s));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(s[4..]));
        Assert.Equal(0x0007_1234u, BinaryPrimitives.ReadUInt32LittleEndian(s[8..]));
        uint dw3 = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
        Assert.Equal(0xABCDu, dw3 & 0xFFFF);
        Assert.True(NvmeCompletion.PhaseOf(dw3));
        Assert.Equal(0x80u, (dw3 >> 17) & 0xFF);   // SC
        Assert.Equal(0u, (dw3 >> 25) & 7);         // SCT generic
        Assert.Equal(1u, dw3 >> 31);               // DNR
    }

    [Theory]
    [InlineData(NvmeStatus.InvalidOpcode, 0, 0x01, true)]
    [InlineData(NvmeStatus.InvalidField, 0, 0x02, true)]
    [InlineData(NvmeStatus.DataTransferError, 0, 0x04, true)]
    [InlineData(NvmeStatus.InvalidNamespace, 0, 0x0B, true)]
    [InlineData(NvmeStatus.CommandSequenceError, 0, 0x0C, true)]
    [InlineData(NvmeStatus.InvalidPrpOffset, 0, 0x13, true)]
    [InlineData(NvmeStatus.LbaOutOfRange, 0, 0x80, true)]
    [InlineData(NvmeStatus.CompletionQueueInvalid, 1, 0x00, true)]
    [InlineData(NvmeStatus.InvalidQueueIdentifier, 1, 0x01, true)]
    [InlineData(NvmeStatus.InvalidQueueSize, 1, 0x02, true)]
    [InlineData(NvmeStatus.AerLimitExceeded, 1, 0x05, true)]
    [InlineData(NvmeStatus.InvalidInterruptVector, 1, 0x08, true)]
    [InlineData(NvmeStatus.InvalidLogPage, 1, 0x09, true)]
    [InlineData(NvmeStatus.InvalidQueueDeletion, 1, 0x0C, true)]
    [InlineData(NvmeStatus.FeatureNotSaveable, 1, 0x0D, true)]
    [InlineData(NvmeStatus.FeatureNotNamespaceSpecific, 1, 0x0F, true)]
    [InlineData(NvmeStatus.WriteFault, 2, 0x80, false)]
    [InlineData(NvmeStatus.UnrecoveredReadError, 2, 0x81, false)]
    [InlineData(NvmeStatus.InternalError, 0, 0x06, false)]
    public void Status_codes_have_their_type_code_and_retry_bit(ushort status, int type, int code, bool dnr)
    {
        Assert.Equal(type, NvmeStatus.TypeOf(status));
        Assert.Equal(code, NvmeStatus.CodeOf(status));
        Assert.Equal(dnr, NvmeStatus.DoNotRetry(status));
    }

    [Theory]
    [InlineData(NvmeBackendOp.Read, 4096, 4096ul, NvmeStatus.Success)]
    [InlineData(NvmeBackendOp.Read, 2048, 4096ul, NvmeStatus.UnrecoveredReadError)]   // short read (EOF)
    [InlineData(NvmeBackendOp.Read, -5, 4096ul, NvmeStatus.UnrecoveredReadError)]     // EIO
    [InlineData(NvmeBackendOp.Write, -5, 4096ul, NvmeStatus.WriteFault)]
    [InlineData(NvmeBackendOp.Write, -28, 4096ul, NvmeStatus.CapacityExceeded)]       // ENOSPC
    [InlineData(NvmeBackendOp.Flush, 0, 0ul, NvmeStatus.Success)]
    [InlineData(NvmeBackendOp.Flush, -5, 0ul, NvmeStatus.WriteFault)]
    [InlineData(NvmeBackendOp.WriteZeroes, -95, 0ul, NvmeStatus.WriteFault)]
    [InlineData(NvmeBackendOp.Deallocate, -95, 0ul, NvmeStatus.InternalError)]
    [InlineData(NvmeBackendOp.Deallocate, 0, 0ul, NvmeStatus.Success)]
    public void Backend_results_map_to_one_status_each(NvmeBackendOp op, int result, ulong expected, ushort status)
    {
        Assert.Equal(status, NvmeStatus.FromBackend(op, result, expected));
    }
}
