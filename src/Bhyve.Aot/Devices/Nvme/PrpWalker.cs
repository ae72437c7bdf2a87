using Bhyve.Aot.Memory;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Devices.Nvme;

/// <summary>
/// Turns a command's PRP1/PRP2 and transfer length into host iovecs over guest RAM (NVMe 1.4 §4.3), page size
/// 4 KiB (CAP.MPSMIN = MPSMAX = 0):
/// - PRP1 may start anywhere dword aligned; it covers up to the end of its page.
/// - If what is left fits in one page, PRP2 is a page-aligned data pointer. If nothing is left, PRP2 is unused and
///   never looked at.
/// - Otherwise PRP2 points to a PRP list (qword aligned, possibly mid-page: the first list page then holds fewer
///   entries). Every entry is a page-aligned data page, except that the last slot of a list page points to the
///   next list page when more than one page of data remains.
/// Every address is checked against guest RAM, so nothing reaches the device's own BAR or any other MMIO; the walk
/// reads at most one entry per data page plus one pointer per list page, so it always ends. Physically contiguous
/// pages merge into one iovec (by host pointer, never by guest address 0 tricks).
/// </summary>
public static class PrpWalker
{
    public const int PageSize = NvmeRegisters.PageSize;
    private const ulong PageMask = PageSize - 1;

    /// <summary>Fills iov for `length` bytes; returns NvmeStatus.Success and the segment count, or the error status.</summary>
    public static ushort Walk(GuestMemory memory, ulong prp1, ulong prp2, ulong length, Span<IoVec> iov, out int count)
    {
        count = 0;
        if (length == 0) return NvmeStatus.Success;
        if ((prp1 & 3) != 0) return NvmeStatus.InvalidPrpOffset;
        ulong first = Math.Min(length, PageSize - (prp1 & PageMask));
        ushort s = Add(memory, prp1, first, iov, ref count);
        if (s != NvmeStatus.Success) return s;
        ulong left = length - first;
        if (left == 0) return NvmeStatus.Success;
        if (left <= PageSize)
        {
            if ((prp2 & PageMask) != 0) return NvmeStatus.InvalidPrpOffset;
            return Add(memory, prp2, left, iov, ref count);
        }
        if ((prp2 & 7) != 0) return NvmeStatus.InvalidPrpOffset;
        ulong list = prp2;
        int entries = (int)((PageSize - (prp2 & PageMask)) / 8);
        int index = 0;
        while (left > 0)
        {
            if (!memory.TryRead(list + (ulong)index * 8, out ulong entry)) return NvmeStatus.DataTransferError;
            if ((entry & PageMask) != 0) return NvmeStatus.InvalidPrpOffset;
            if (index == entries - 1 && left > PageSize)
            {
                // The last slot chains to the next list page.
                list = entry;
                entries = PageSize / 8;
                index = 0;
                continue;
            }
            ulong take = Math.Min(left, PageSize);
            s = Add(memory, entry, take, iov, ref count);
            if (s != NvmeStatus.Success) return s;
            left -= take;
            index++;
        }
        return NvmeStatus.Success;
    }

    /// <summary>Copies `data` into the guest buffer the PRPs describe (Identify, log pages), piece by piece.</summary>
    // SAFETY: Walk returns segments that TryTranslate checked, covering exactly data.Length bytes, so each span is guest RAM and the slices stay inside data
    public static unsafe ushort CopyTo(GuestMemory memory, ulong prp1, ulong prp2, ReadOnlySpan<byte> data, Span<IoVec> scratch)
    {
        ushort s = Walk(memory, prp1, prp2, (ulong)data.Length, scratch, out int n);
        if (s != NvmeStatus.Success) return s;
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            int len = (int)scratch[i].Length;
            data.Slice(at, len).CopyTo(new Span<byte>((void*)scratch[i].Base, len));
            at += len;
        }
        return NvmeStatus.Success;
    }

    /// <summary>Copies the guest buffer the PRPs describe into `data` (DSM ranges), piece by piece.</summary>
    // SAFETY: Walk returns segments that TryTranslate checked, covering exactly data.Length bytes, so each span is guest RAM and the slices stay inside data
    public static unsafe ushort CopyFrom(GuestMemory memory, ulong prp1, ulong prp2, Span<byte> data, Span<IoVec> scratch)
    {
        ushort s = Walk(memory, prp1, prp2, (ulong)data.Length, scratch, out int n);
        if (s != NvmeStatus.Success) return s;
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            int len = (int)scratch[i].Length;
            new ReadOnlySpan<byte>((void*)scratch[i].Base, len).CopyTo(data.Slice(at, len));
            at += len;
        }
        return NvmeStatus.Success;
    }

    // SAFETY: host comes from TryTranslate of [address, address + length); merging only adds length to a segment that ends exactly at host
    private static unsafe ushort Add(GuestMemory memory, ulong address, ulong length, Span<IoVec> iov, ref int count)
    {
        if (!memory.TryTranslate(address, length, out byte* host)) return NvmeStatus.DataTransferError;
        if (count > 0 && (byte*)iov[count - 1].Base + iov[count - 1].Length == host)
        {
            iov[count - 1] = new IoVec(iov[count - 1].Base, iov[count - 1].Length + (nuint)length);
            return NvmeStatus.Success;
        }
        // More segments than the caller can hold: only a transfer beyond MDTS gets here, and MDTS is checked first.
        if (count == iov.Length) return NvmeStatus.InternalError | NvmeStatus.Dnr;
        iov[count++] = new IoVec((nint)host, (nuint)length);
        return NvmeStatus.Success;
    }
}
