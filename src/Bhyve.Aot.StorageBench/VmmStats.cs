using System.Globalization;

namespace Bhyve.Aot.StorageBench;

/// <summary>What `bhyve-aot run --stats` printed on stderr: exits to user space, device counters, the GC.</summary>
/// <param name="Exits">exits to user space in the whole run (boot included) other than port I/O: the guest's storage
/// path is all MMIO, its port I/O is the serial console, whose exit count follows the length of what it prints; null
/// when not printed.</param>
/// <param name="Doorbells">doorbells KVM caught with an ioeventfd (no exit to user space).</param>
/// <param name="Interrupts">interrupts the device raised (the polled guest masks them, so normally 0).</param>
/// <param name="GcCollections">GC collections in the VMM process (the gen0 count, which includes the older generations').</param>
/// <param name="AllocatedBytes">bytes the VMM process allocated in its whole life (startup included).</param>
public sealed record VmmStats(long? Exits, long? Doorbells, long? Interrupts, long? GcCollections, long? AllocatedBytes)
{
    /// <summary>Parses what it finds; a counter that is absent stays null (older binaries print less). No Regex: it
    /// would add a megabyte to the AOT binary for three fixed line shapes.</summary>
    public static VmmStats Parse(string stderr)
    {
        long? exits = null, doorbells = null, interrupts = null, gc = null, allocated = null;
        foreach (string raw in stderr.Split('\n'))
        {
            string line = raw.Trim();
            if (NumberAfter(line, "exits to user space: ") is { } e) exits = e - (NumberAfter(line, "(port I/O ") ?? 0);
            else if (line.Contains("nvme: ", StringComparison.Ordinal) && NumberAfter(line, "doorbells ") is { } mmio)
            {
                // "doorbells M MMIO + E ioeventfd": MMIO ones are exits to user space (already in Exits), both are doorbells.
                doorbells = (doorbells ?? 0) + mmio + (NumberBefore(line, " ioeventfd") ?? 0);
                if (NumberBefore(line, " interrupts") is { } i) interrupts = (interrupts ?? 0) + i;
            }
            else if (line.Contains("virtio-blk: ", StringComparison.Ordinal) && NumberBefore(line, " doorbells") is { } d)
            {
                doorbells = (doorbells ?? 0) + d;
                if (NumberBefore(line, " interrupts") is { } i) interrupts = (interrupts ?? 0) + i;
            }
            else if (NumberAfter(line, "gc: ") is { } g && line.Contains(" gen0", StringComparison.Ordinal))
            {
                gc = g;   // gen0 counts every collection
                allocated = NumberBefore(line, " bytes allocated");
            }
        }
        return new VmmStats(exits, doorbells, interrupts, gc, allocated);
    }

    /// <summary>The run's exits minus those of a boot that did no I/O, per operation; null when either is unknown.</summary>
    public static double? ExitsPerOperation(long? exits, long? bootExits, long operations) =>
        exits is { } e && bootExits is { } b && operations > 0 ? Math.Max(0, e - b) / (double)operations : null;

    private static long? NumberAfter(string line, string marker)
    {
        int at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        int start = at + marker.Length, end = start;
        while (end < line.Length && char.IsAsciiDigit(line[end])) end++;
        return end > start ? long.Parse(line.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }

    private static long? NumberBefore(string line, string marker)
    {
        int end = line.IndexOf(marker, StringComparison.Ordinal);
        if (end <= 0) return null;
        int start = end;
        while (start > 0 && char.IsAsciiDigit(line[start - 1])) start--;
        return end > start ? long.Parse(line.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }
}
