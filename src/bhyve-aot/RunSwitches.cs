namespace Bhyve.Aot.Cli;

/// <summary>How to run a machine, as opposed to what the machine is (VmConfig): the same for all three forms.</summary>
/// <param name="Stats">print VM exit and device counters on stderr at the end</param>
/// <param name="Overcommit">allow guest RAM above the host's MemTotal (pages are only touched on use)</param>
/// <param name="ShutdownTimeout">how long a guest gets to power off after SIGTERM/SIGINT (null: the default)</param>
public sealed record RunSwitches(bool Stats, bool Overcommit = false, TimeSpan? ShutdownTimeout = null);
