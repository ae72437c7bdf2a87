using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Os;

/// <summary>
/// Compiles the rules of one thread kind into a classic BPF program for seccomp(SET_MODE_FILTER):
/// wrong architecture or an x32 number → kill the process; an allowed syscall → ALLOW (when its argument check
/// passes); anything else → the default action (SECCOMP_RET_TRAP: SIGSYS, so the VMM can say which call it was).
/// Layout, so every jump is short (≤ 255) whatever the table's length: per rule "jeq nr, 0, len(body)" then a body
/// that ends in a return, so control never falls from one rule's body into the next comparison.
/// </summary>
internal static class SeccompProgram
{
    public static SockFilter[] Compile(IEnumerable<SeccompRule> rules, SeccompThreadKind kind, uint defaultAction)
    {
        var p = new List<SockFilter>
        {
            Ld(SeccompAbi.DataArch),
            new(SeccompAbi.JeqK, 1, 0, SeccompAbi.AuditArchX86_64),
            Ret(SeccompAbi.RetKillProcess),
            Ld(SeccompAbi.DataNr),
        };
        // An x32 number (bit 30 set) reaches the same handlers under another number: kill. Then reload nr.
        p.Add(new SockFilter(SeccompAbi.AndK, 0, 0, SeccompAbi.X32SyscallBit));
        p.Add(new SockFilter(SeccompAbi.JeqK, 1, 0, 0));
        p.Add(Ret(SeccompAbi.RetKillProcess));
        p.Add(Ld(SeccompAbi.DataNr));

        var seen = new HashSet<int>();
        foreach (var rule in rules)
        {
            if ((rule.Kinds & kind) == 0) continue;
            if (!seen.Add(rule.Number)) throw new InvalidOperationException($"seccomp table: {rule.Name} ({rule.Number}) appears twice for {kind}");
            var body = Body(rule, defaultAction);
            if (body.Count > 255) throw new InvalidOperationException($"seccomp table: {rule.Name} has too many allowed values");
            p.Add(new SockFilter(SeccompAbi.JeqK, 0, (byte)body.Count, (uint)rule.Number));
            p.AddRange(body);
        }
        p.Add(Ret(defaultAction));
        if (p.Count > SeccompAbi.MaxInstructions) throw new InvalidOperationException($"seccomp program for {kind} has {p.Count} instructions");
        return [.. p];
    }

    private static List<SockFilter> Body(SeccompRule rule, uint defaultAction)
    {
        uint argLow = SeccompAbi.DataArgs + 8 * (uint)rule.Arg;
        switch (rule.Check)
        {
            case SeccompArgCheck.Any:
                return [Ret(SeccompAbi.RetAllow)];
            case SeccompArgCheck.OneOf:
            {
                // The low 32 bits: ioctl requests, socket families and prctl options are ints to the kernel.
                var body = new List<SockFilter> { Ld(argLow) };
                foreach (uint v in rule.Values!)
                {
                    body.Add(new SockFilter(SeccompAbi.JeqK, 0, 1, v));
                    body.Add(Ret(SeccompAbi.RetAllow));
                }
                body.Add(Ret(defaultAction));
                return body;
            }
            case SeccompArgCheck.NoBitsOf:
                return
                [
                    Ld(argLow),
                    new SockFilter(SeccompAbi.AndK, 0, 0, rule.Values![0]),
                    new SockFilter(SeccompAbi.JeqK, 0, 1, 0),
                    Ret(SeccompAbi.RetAllow),
                    Ret(defaultAction),
                ];
            default:
                throw new ArgumentOutOfRangeException(nameof(rule));
        }
    }

    private static SockFilter Ld(uint offset) => new(SeccompAbi.LdWAbs, 0, 0, offset);
    private static SockFilter Ret(uint action) => new(SeccompAbi.RetK, 0, 0, action);
}
