using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Bhyve.Aot.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bhyve.Aot.Tests.EndToEnd;

/// <summary>
/// crash-writer.elf appends 4 KiB records and prints "acked g" once generation g is durable (FLUSH completed, or on
/// NVMe every other generation as FUA writes). The test SIGKILLs the VMM at a random moment and then checks the image:
/// every record of every acknowledged generation is there byte for byte, and no record holds anything but zeroes or
/// its own bytes (nothing landed at a wrong offset). A VMM that acknowledged a flush before the writes it covers
/// reached the kernel loses acknowledged records here.
/// </summary>
public sealed class CrashConsistencyTests(ITestOutputHelper log) : IDisposable
{
    private const int Record = 4096, Batch = 4;
    // Big enough that the guest never reaches "done" before the kill (at most 2.5 s after the first ack; a quiet
    // host writes about 600 generations a second, and 128 MiB holds 8192).
    private const long DiskBytes = 128 << 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("vblk")]
    [InlineData("nvme")]
    public async Task Acknowledged_writes_survive_sigkill(string device)
    {
        Repo.RequireKvm();
        int seed = Environment.TickCount;
        var random = new Random(seed);
        log.WriteLine($"seed {seed}");
        long totalAcked = 0;
        for (int round = 0; round < 4; round++)
        {
            string image = Path.Combine(_dir, $"{device}-{round}.img");
            int delayMs = random.Next(50, 2500);
            long acked = await RunAndKill(device, image, delayMs);
            log.WriteLine($"round {round}: killed {delayMs} ms after the first ack; {acked} generations acknowledged");
            Verify(image, acked);
            totalAcked += acked;
        }
        Assert.True(totalAcked > 0, "the guest acknowledged nothing before any kill: the test proved nothing");
    }

    /// <summary>Starts the VMM, SIGKILLs it delayMs after the first "acked" line, returns the last generation acknowledged.</summary>
    private static async Task<long> RunAndKill(string device, string image, int delayMs)
    {
        var psi = new ProcessStartInfo(Repo.Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string disk = $"path={image},size={DiskBytes >> 20}M,create";
        foreach (string a in (string[])["run", "--kernel", Repo.Guest("crash-writer.elf"), "--memory", "64M", "--cmdline", $"dev={device} batch={Batch}",
                                         device == "nvme" ? "--nvme" : "--disk", disk])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        long acked = 0;
        var firstAck = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            var output = new StringBuilder();
            while (await p.StandardOutput.ReadLineAsync() is { } line)
            {
                output.AppendLine(line);
                if (line.StartsWith("acked ", StringComparison.Ordinal))
                {
                    Volatile.Write(ref acked, long.Parse(line.AsSpan(6)));
                    firstAck.TrySetResult();
                }
                else if (line.StartsWith("error", StringComparison.Ordinal) || line.StartsWith("done", StringComparison.Ordinal))
                {
                    firstAck.TrySetException(new InvalidOperationException($"the guest stopped before the kill: {line}"));
                }
            }
            firstAck.TrySetException(new InvalidOperationException($"the VMM ended before the first ack:\n{output}"));
            return output.ToString();
        });
        var started = await Task.WhenAny(firstAck.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != firstAck.Task)
        {
            p.Kill();
            throw new TimeoutException("no ack within 60 s");
        }
        await firstAck.Task; // throws if the guest failed
        await Task.Delay(delayMs);
        p.Kill(); // SIGKILL
        await p.WaitForExitAsync();
        await reader; // lines already in the pipe count: the guest printed them after the ack
        Assert.True(p.ExitCode == 137, $"exit {p.ExitCode} (expected 137, SIGKILL): {await stderr}");
        return Volatile.Read(ref acked);
    }

    private static void Verify(string image, long ackedGenerations)
    {
        byte[] file = File.ReadAllBytes(image);
        Assert.Equal(DiskBytes, file.LongLength);
        var expected = new byte[Record];
        long durable = ackedGenerations * Batch;
        for (long index = 0; index < DiskBytes / Record; index++)
        {
            var actual = file.AsSpan((int)(index * Record), Record);
            Fill(expected, index / Batch + 1, index);
            if (index < durable)
            {
                int at = actual.CommonPrefixLength(expected);
                Assert.True(at == Record, $"record {index} (generation {index / Batch + 1}, acknowledged) differs at byte {at}");
            }
            else
            {
                Assert.True(actual.SequenceEqual(expected) || !actual.ContainsAnyExcept((byte)0),
                            $"record {index} (not acknowledged) holds neither zeroes nor its own bytes");
            }
        }
    }

    /// <summary>The record crash-writer.c writes for (gen, index).</summary>
    private static void Fill(Span<byte> record, long gen, long index)
    {
        "BHCRASH1"u8.CopyTo(record);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], (ulong)gen);
        BinaryPrimitives.WriteUInt64LittleEndian(record[16..], (ulong)index);
        for (int k = 0; k < Record / 8 - 3; k++)
            BinaryPrimitives.WriteUInt64LittleEndian(record[(24 + 8 * k)..], Word((ulong)gen, (ulong)index, (ulong)k));
    }

    private static ulong Word(ulong gen, ulong index, ulong k)
    {
        ulong x = gen * 0x9E3779B97F4A7C15ul ^ index * 0xBF58476D1CE4E5B9ul ^ (k + 1) * 0x94D049BB133111EBul;
        x ^= x >> 31;
        x *= 0xD6E8FEB86659FD93ul;
        x ^= x >> 32;
        return x;
    }
}
