using System.Globalization;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Host;

/// <summary>
/// Sets up a small io_uring, asks the kernel which opcodes it supports (IORING_REGISTER_PROBE), closes the ring,
/// and says which block engine bhyve-aot would choose.
/// </summary>
public static class IoUringProbe
{
    public const string IoUringEngine = BlockEngineRequirements.IoUringEngine;
    public const string SynchronousEngine = BlockEngineRequirements.SynchronousEngine;

    private const uint RingEntries = 4;

    /// <summary>The opcodes the block engine uses (the engine's own list); Needed ones decide between io_uring and the fallback.</summary>
    public static IReadOnlyList<(IoUringOp Op, string Name, bool Needed)> EngineOpcodes => BlockEngineRequirements.Opcodes;

    // SAFETY: setup fills an IoUringParams on our stack; the zeroed probe buffer holds the header plus ProbeOpCapacity ops, what we tell the kernel, and reads are capped at min(ops_len, ProbeOpCapacity)
    public static unsafe IoUringReport Probe(HostFileSystem fs)
    {
        int? disabled = int.TryParse(fs.ReadValue(IoUringAbi.DisabledSysctl), NumberStyles.Integer, CultureInfo.InvariantCulture, out int d) ? d : null;

        var setup = new IoUringParams();
        int ring = (int)Libc.Syscall(IoUringAbi.SysSetup, RingEntries, (long)&setup, 0, 0, 0, 0);
        if (ring < 0)
        {
            string error = Libc.Describe(Libc.LastErrno);
            return new IoUringReport(disabled, false, error, null, false, null, null, Opcodes(null), SynchronousEngine);
        }
        try
        {
            int bytes = sizeof(IoUringProbeHeader) + IoUringAbi.ProbeOpCapacity * sizeof(IoUringProbeOp);
            byte* buffer = stackalloc byte[bytes];
            new Span<byte>(buffer, bytes).Clear();
            if (Libc.Syscall(IoUringAbi.SysRegister, ring, IoUringAbi.RegisterProbe, (long)buffer, IoUringAbi.ProbeOpCapacity, 0, 0) < 0)
            {
                string error = Libc.Describe(Libc.LastErrno);
                return new IoUringReport(disabled, true, null, setup.Features, false, error, null, Opcodes(null), SynchronousEngine);
            }
            var header = (IoUringProbeHeader*)buffer;
            var ops = new ReadOnlySpan<IoUringProbeOp>(buffer + sizeof(IoUringProbeHeader), Math.Min((int)header->OpsLen, IoUringAbi.ProbeOpCapacity));
            var opcodes = Opcodes(ops.ToArray());
            return new IoUringReport(disabled, true, null, setup.Features, true, null, header->LastOp, opcodes, ChooseBlockEngine(true, opcodes));
        }
        finally
        {
            Libc.Close(ring);
        }
    }

    /// <summary>io_uring when the ring sets up and every needed opcode is supported; otherwise the synchronous fallback.</summary>
    public static string ChooseBlockEngine(bool setupWorks, IoUringOpcodeReport[] opcodes) =>
        setupWorks && opcodes.Length > 0 && opcodes.Where(o => o.Needed).All(o => o.Supported) ? IoUringEngine : SynchronousEngine;

    /// <summary>The engine's opcodes marked from the probe's answer; all unsupported when there is none.</summary>
    private static IoUringOpcodeReport[] Opcodes(IoUringProbeOp[]? ops) =>
        [.. EngineOpcodes.Select(e =>
        {
            int i = (int)e.Op;
            bool supported = ops is not null && i < ops.Length && (ops[i].Flags & IoUringAbi.OpSupported) != 0;
            return new IoUringOpcodeReport(e.Name, i, supported, e.Needed);
        })];
}
