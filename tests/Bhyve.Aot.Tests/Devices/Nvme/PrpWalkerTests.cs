using System.Buffers.Binary;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// The PRP walker against every case of device-semantics.md A11 and D2-D4: PRP1 offsets, PRP2 as data or list
/// pointer (with an offset), chained list pages, the last-slot rule, alignment errors, addresses outside RAM
/// (including the device's own BAR), merging, and piecewise copies.
/// </summary>
public sealed unsafe class PrpWalkerTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly FakeRam _ram = new(4 << 20);
    private readonly IoVec[] _iov = new IoVec[64];

    public void Dispose() => _ram.Dispose();

    private nint Host(ulong gpa) => (nint)(_ram.Host + gpa);

    private void List(ulong at, params ulong[] entries)
    {
        for (int i = 0; i < entries.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(_ram.HostSpan(at + (ulong)i * 8, 8), entries[i]);
    }

    private (ushort Status, IoVec[] Segments) Walk(ulong prp1, ulong prp2, ulong length)
    {
        ushort s = PrpWalker.Walk(_ram.Memory, prp1, prp2, length, _iov, out int n);
        return (s, _iov[..n]);
    }

    [Fact]
    public void Transfer_within_PRP1_page_ignores_PRP2_entirely()
    {
        // PRP2 is garbage (misaligned, outside RAM): it must not even be looked at.
        var (s, segs) = Walk(0x10200, 0xFFFF_FFFF_FFFF_FFF3, 0xE00);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10200), 0xE00)], segs);
    }

    [Fact]
    public void PRP1_offset_then_PRP2_as_data_pointer()
    {
        var (s, segs) = Walk(0x10800, 0x30000, 4096);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10800), 0x800), new IoVec(Host(0x30000), 0x800)], segs);
    }

    [Fact]
    public void PRP2_data_pointer_with_an_offset_is_invalid_prp_offset()
    {
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Walk(0x10000, 0x30010, 8192).Status);
    }

    [Theory]
    [InlineData(0x10001UL)]
    [InlineData(0x10002UL)]
    [InlineData(0x10003UL)]
    public void PRP1_not_dword_aligned_is_invalid_prp_offset(ulong prp1)
    {
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Walk(prp1, 0, 512).Status);
    }

    [Fact]
    public void PRP_list_of_data_pages()
    {
        List(0x50000, 0x31000, 0x33000, 0x35000);
        var (s, segs) = Walk(0x10000, 0x50000, 4 * Page);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10000), 4096), new IoVec(Host(0x31000), 4096), new IoVec(Host(0x33000), 4096), new IoVec(Host(0x35000), 4096)], segs);
    }

    [Fact]
    public void PRP1_offset_makes_the_last_list_entry_a_partial_page()
    {
        List(0x50000, 0x31000, 0x33000);
        var (s, segs) = Walk(0x10F00, 0x50000, 0x100 + 4096 + 0x200);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10F00), 0x100), new IoVec(Host(0x31000), 4096), new IoVec(Host(0x33000), 0x200)], segs);
    }

    [Fact]
    public void List_pointer_with_offset_has_fewer_entries_on_its_first_page_then_chains()
    {
        // PRP2 at 0x50FF0: the first list page holds 2 entries; with 3 pages left, slot 1 chains to 0x60000.
        List(0x50FF0, 0x31000, 0x60000);
        List(0x60000, 0x33000, 0x35000);
        var (s, segs) = Walk(0x10000, 0x50FF0, 4 * Page);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10000), 4096), new IoVec(Host(0x31000), 4096), new IoVec(Host(0x33000), 4096), new IoVec(Host(0x35000), 4096)], segs);
    }

    [Fact]
    public void Last_slot_is_data_when_exactly_one_page_remains()
    {
        // First list page has 2 entries (offset 0xFF0) and exactly 2 pages remain: slot 1 is data, not a pointer.
        List(0x50FF0, 0x31000, 0x33000);
        var (s, segs) = Walk(0x10000, 0x50FF0, 3 * Page);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x10000), 4096), new IoVec(Host(0x31000), 4096), new IoVec(Host(0x33000), 4096)], segs);
    }

    [Fact]
    public void Full_list_page_chains_from_slot_511()
    {
        // 1 + 511 + 2 pages: slot 511 of the first list page points to a second list page.
        var entries = new ulong[512];
        for (int i = 0; i < 511; i++) entries[i] = 0x200000 + (ulong)i * Page;
        entries[511] = 0x70000;
        List(0x60000, entries);
        List(0x70000, 0x100000, 0x102000);
        var (s, segs) = Walk(0x10000, 0x60000, 514 * Page);
        Assert.Equal(NvmeStatus.Success, s);
        // The 511 consecutive pages merge into one segment.
        Assert.Equal([new IoVec(Host(0x10000), 4096), new IoVec(Host(0x200000), 511 * 4096), new IoVec(Host(0x100000), 4096), new IoVec(Host(0x102000), 4096)], segs);
    }

    [Fact]
    public void Misaligned_list_entry_is_invalid_prp_offset()
    {
        List(0x50000, 0x31000, 0x33008);
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Walk(0x10000, 0x50000, 3 * Page).Status);
    }

    [Fact]
    public void Misaligned_chain_pointer_is_invalid_prp_offset()
    {
        List(0x50FF8, 0x60010); // one slot, more than one page left: it is a pointer, and misaligned
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Walk(0x10000, 0x50FF8, 3 * Page).Status);
    }

    [Fact]
    public void List_pointer_not_qword_aligned_is_invalid_prp_offset()
    {
        Assert.Equal(NvmeStatus.InvalidPrpOffset, Walk(0x10000, 0x50004, 3 * Page).Status);
    }

    [Theory]
    [InlineData(0xC000_0000UL)]            // where the PCI BARs live (the device's own registers included)
    [InlineData(0xE000_0000UL)]            // ECAM
    [InlineData(4UL << 20)]                // just past RAM
    [InlineData(0xFFFF_FFFF_FFFF_F000UL)]  // would wrap
    public void Data_page_outside_RAM_is_data_transfer_error(ulong page)
    {
        List(0x50000, 0x31000, page);
        Assert.Equal(NvmeStatus.DataTransferError, Walk(0x10000, 0x50000, 3 * Page).Status);
        Assert.Equal(NvmeStatus.DataTransferError, Walk(page, 0, 512).Status);
        Assert.Equal(NvmeStatus.DataTransferError, Walk(0x10000, page, 2 * Page).Status);
    }

    [Fact]
    public void List_page_outside_RAM_is_data_transfer_error()
    {
        Assert.Equal(NvmeStatus.DataTransferError, Walk(0x10000, 0xC000_0000, 3 * Page).Status);
        List(0x50FF8, 0xC000_1000); // chain pointer into the BAR
        Assert.Equal(NvmeStatus.DataTransferError, Walk(0x10000, 0x50FF8, 3 * Page).Status);
    }

    [Fact]
    public void Physically_contiguous_pages_merge_but_address_zero_is_not_special()
    {
        // Page 0 follows nothing: it must be its own segment (the bhyve D35328 bug merged address 0).
        List(0x50000, 0x0, 0x1000, 0x5000);
        var (s, segs) = Walk(0x30000, 0x50000, 4 * Page);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.Equal([new IoVec(Host(0x30000), 4096), new IoVec(Host(0), 8192), new IoVec(Host(0x5000), 4096)], segs);
    }

    [Fact]
    public void More_segments_than_the_caller_holds_is_an_internal_error_not_an_overrun()
    {
        var entries = new ulong[10];
        for (int i = 0; i < 10; i++) entries[i] = 0x200000 + (ulong)i * 2 * Page; // never contiguous
        List(0x50000, entries);
        var small = new IoVec[4];
        Assert.Equal(NvmeStatus.InternalError | NvmeStatus.Dnr, PrpWalker.Walk(_ram.Memory, 0x10000, 0x50000, 11 * Page, small, out int n));
        Assert.Equal(4, n);
    }

    [Fact]
    public void A_self_referencing_list_ends_when_the_length_is_used_up()
    {
        // The chain pointer points at its own page: the walk still reads one entry per page of data and stops.
        var entries = new ulong[512];
        for (int i = 0; i < 511; i++) entries[i] = 0x200000;
        entries[511] = 0x60000;
        List(0x60000, entries);
        var big = new IoVec[2048];
        ushort s = PrpWalker.Walk(_ram.Memory, 0x10000, 0x60000, 1500 * Page, big, out int n);
        Assert.Equal(NvmeStatus.Success, s);
        Assert.True(n <= 1500);
    }

    [Fact]
    public void CopyTo_writes_each_PRP_piece_and_nothing_beyond()
    {
        // PRP1 at the end of a page, PRP2 elsewhere: the bytes after PRP1's page must stay untouched (bhyve D19695).
        var data = new byte[4096];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + 1);
        Assert.Equal(NvmeStatus.Success, PrpWalker.CopyTo(_ram.Memory, 0x10C00, 0x40000, data, _iov));
        Assert.Equal(data.AsSpan(0, 0x400).ToArray(), _ram.HostSpan(0x10C00, 0x400).ToArray());
        Assert.Equal(data.AsSpan(0x400).ToArray(), _ram.HostSpan(0x40000, 0xC00).ToArray());
        Assert.False(_ram.HostSpan(0x11000, 0x1000).ContainsAnyExcept((byte)0));
        Assert.False(_ram.HostSpan(0x40C00, 0x400).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void CopyFrom_gathers_each_PRP_piece()
    {
        _ram.HostSpan(0x10FF0, 16).Fill(1);
        _ram.HostSpan(0x40000, 16).Fill(2);
        var into = new byte[32];
        Assert.Equal(NvmeStatus.Success, PrpWalker.CopyFrom(_ram.Memory, 0x10FF0, 0x40000, into, _iov));
        Assert.Equal(Enumerable.Repeat((byte)1, 16).Concat(Enumerable.Repeat((byte)2, 16)).ToArray(), into);
    }
}
