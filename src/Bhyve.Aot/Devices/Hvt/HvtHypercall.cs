namespace Bhyve.Aot.Devices.Hvt;

/// <summary>The hvt hypercalls (enum hvt_hypercall): the guest writes a 32-bit struct address to port 0x500 + n.</summary>
public enum HvtHypercall
{
    Walltime = 1,
    Puts = 2,
    Poll = 3,
    BlockWrite = 4,
    BlockRead = 5,
    NetWrite = 6,
    NetRead = 7,
    Halt = 8,
}

/// <summary>solo5_result_t values the tender stores in a hypercall's ret field.</summary>
public static class Solo5Result
{
    public const int Ok = 0, Again = 1, Invalid = 2, Unspecified = 3;
}
