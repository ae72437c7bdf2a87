using System.Buffers.Binary;
using System.Diagnostics;
using Bhyve.Aot.Devices.Nvme;
using Bhyve.Aot.Tests.Support;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Nvme;

/// <summary>
/// Thousands of random SQEs (mostly plausible, some garbage) and random register and doorbell writes, including
/// resets and re-enables, against a controller over guarded RAM and a real file. The controller must never throw,
/// never hang, and never write outside guest RAM (the guard bytes around it stay intact).
/// </summary>
public sealed class NvmeControllerFuzzTests
{
    private static readonly byte[] AdminOpcodes = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0C, 0x7C, 0x80, 0xFF];
    private static readonly byte[] IoOpcodes = [0x00, 0x01, 0x02, 0x08, 0x09, 0x05, 0x7F];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_commands_and_register_writes_never_throw_hang_or_escape_RAM(int seed)
    {
        var run = Task.Run(() => Fuzz(seed, steps: 6000));
        await run.WaitAsync(TimeSpan.FromSeconds(120)); // TimeoutException: the controller hung
    }

    private static void Fuzz(int seed, int steps)
    {
        var rng = new Random(seed);
        using var h = new NvmeHarness(maxIoQueues: 3, maxEntries: 64);
        h.Enable();
        h.CreateQueuePair(1, entries: 32);
        h.CreateQueuePair(2, entries: 8);
        var tails = new ushort[3];
        var sizes = new ushort[] { NvmeHarness.AdminEntries, 32, 8 };
        var bases = new[] { NvmeHarness.AdminSq, NvmeHarness.SqBase(1), NvmeHarness.SqBase(2) };
        // Plausible PRP lists full of random entries, some aligned, some not.
        for (int i = 0; i < 1024; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(h.Ram(0x400000 + (ulong)i * 8, 8), RandomAddress(rng));
        var sqe = new byte[64];
        for (int step = 0; step < steps; step++)
        {
            int action = rng.Next(100);
            if ((step % 100) == 0 && h.Controller.Processor is not null)
            {
                // Deletions and resets take queues away; put them back now and then so I/O keeps flowing.
                for (uint q = 1; q <= 2; q++)
                {
                    h.Submit(0, NvmeAdminOpcode.CreateIoCq, prp1: NvmeHarness.CqBase((int)q), cdw10: q | ((uint)(sizes[q] - 1) << 16), cdw11: 3);
                    h.Submit(0, NvmeAdminOpcode.CreateIoSq, prp1: NvmeHarness.SqBase((int)q), cdw10: q | ((uint)(sizes[q] - 1) << 16), cdw11: 1 | (q << 16));
                }
            }
            if (action < 45)
            {
                int q = rng.Next(5) == 0 ? 0 : rng.Next(1, 3);
                RandomSqe(rng, sqe, q == 0);
                if (q == 0)
                {
                    var a = new NvmeSubmission(sqe);
                    h.Submit(0, a.Opcode, a.Nsid, a.Prp1, a.Prp2, a.Cdw10, a.Cdw11, a.Cdw12, a.Cdw13, a.Dw0 & 0xFF00);
                    continue;
                }
                sqe.CopyTo(h.Ram(bases[q] + (ulong)tails[q] * 64, 64));
                tails[q] = (ushort)((tails[q] + 1) % sizes[q]);
                h.Write32(NvmeRegisters.DoorbellBase + (ulong)q * 8, rng.Next(20) == 0 ? (uint)rng.Next(70) : tails[q]);
            }
            else if (action < 55)
            {
                // Any doorbell, any value: queues that do not exist, values beyond the size, CQ heads anywhere.
                h.Write32(NvmeRegisters.DoorbellBase + (ulong)rng.Next(12) * 4, rng.Next(4) == 0 ? (uint)rng.Next() : (uint)rng.Next(70));
            }
            else if (action < 57)
            {
                ulong offset = (ulong)rng.Next(0x40 / 4) * 4;
                uint value = (uint)rng.Next();
                // CC writes flip EN now and then: a reset with I/O in flight, and re-enables with random admin queues.
                if (offset == NvmeRegisters.Cc && rng.Next(2) == 0) value = (value & ~1u) | (uint)(h.Csts & 1) ^ 1;
                h.Write32(offset, value);
                if (h.Controller.Processor is null && rng.Next(2) == 0)
                {
                    h.Disable();
                    h.Enable();
                    tails = new ushort[3];
                    continue;
                }
            }
            else if (action < 58)
            {
                h.Controller.RegisterWrite((ulong)rng.Next(0x4000), new byte[rng.Next(1, 9)]);
                h.Controller.RegisterRead((ulong)rng.Next(0x4000), new byte[rng.Next(1, 9)]);
            }
            else if (h.Controller.Processor is { } p)
            {
                p.Service();
                p.ReadyToSleep();
                // Consume completions now and then so CQs do not stay full forever.
                for (int cq = 0; cq < 3; cq++)
                    if (rng.Next(3) == 0) h.Write32(NvmeRegisters.DoorbellBase + (ulong)cq * 8 + 4, (uint)rng.Next(sizes[cq]));
            }
            if ((step & 255) == 0) Assert.True(h.GuardsIntact, $"guard bytes changed by step {step}");
        }
        if (h.Controller.Processor is not null) h.Settle();
        Assert.True(h.GuardsIntact);
        // The run must have reached the command paths, not just bounced off validation of the queues.
        var c = h.Controller.Counters;
        Console.WriteLine($"fuzz seed {seed}: {c.AdminCommands} admin, {c.IoCommands} I/O, {c.MmioDoorbells} doorbells, {c.CqFullWaits} CQ-full waits");
        Assert.True(c.IoCommands > steps / 20 && c.AdminCommands > steps / 40, $"{c.IoCommands} I/O and {c.AdminCommands} admin commands");
    }

    private static ulong RandomAddress(Random rng) => rng.Next(8) switch
    {
        0 => (ulong)rng.NextInt64(),
        1 => 0xC000_0000UL + (ulong)rng.Next(0x4000),                    // the BARs
        2 => NvmeHarness.RamSize - (ulong)rng.Next(1, 3) * 4096,          // the last pages of RAM
        3 => (ulong)rng.Next(0x100, 0x800) * 4096 + (ulong)rng.Next(4) * 4, // misaligned data
        4 => 0x400000 + (ulong)rng.Next(0, 16) * 8,                       // the random PRP lists
        _ => 0x100000 + (ulong)rng.Next(0, 0x300) * 4096,                  // plausible data pages
    };

    private static void RandomSqe(Random rng, byte[] e, bool admin)
    {
        byte opcode = admin ? AdminOpcodes[rng.Next(AdminOpcodes.Length)] : IoOpcodes[rng.Next(IoOpcodes.Length)];
        if (opcode is NvmeAdminOpcode.DeleteIoSq or NvmeAdminOpcode.DeleteIoCq && admin && rng.Next(3) != 0) opcode = NvmeAdminOpcode.GetFeatures;
        uint flags = rng.Next(20) == 0 ? (uint)rng.Next(4) << 8 | (uint)rng.Next(4) << 14 : 0;
        uint nsid = rng.Next(10) switch { 0 => 0, 1 => 0xFFFF_FFFF, 2 => (uint)rng.Next(), _ => 1 };
        uint cdw10, cdw11, cdw12 = 0, cdw13 = 0;
        if (admin)
        {
            // Queue ids and sizes mostly small; feature and log ids mostly known.
            cdw10 = (uint)rng.Next(5) | ((uint)rng.Next(70) << 16);
            cdw11 = (uint)rng.Next(4) | ((uint)rng.Next(5) << 16);
            if (opcode is 0x06 or 0x09 or 0x0A or 0x02) { cdw10 = (uint)rng.Next(16) | ((uint)rng.Next(300) << 16); cdw11 = (uint)rng.Next(); }
            if (rng.Next(10) == 0) { cdw10 = (uint)rng.Next(); cdw11 = (uint)rng.Next(); cdw12 = (uint)rng.Next(); cdw13 = (uint)rng.Next(4); }
        }
        else
        {
            cdw10 = (uint)rng.Next(9000);
            cdw11 = opcode == 0x09 ? (uint)rng.Next(8) : rng.Next(20) == 0 ? (uint)rng.Next() : 0;
            cdw12 = (uint)rng.Next(rng.Next(4) == 0 ? 0x10000 : 200) | (uint)rng.Next(8) << 25;
            if (opcode == 0x09) cdw10 = (uint)rng.Next(256);
        }
        NvmeSubmission.Encode(e, opcode, (ushort)rng.Next(), nsid, RandomAddress(rng), RandomAddress(rng), cdw10, cdw11, cdw12, cdw13, flags);
    }
}
