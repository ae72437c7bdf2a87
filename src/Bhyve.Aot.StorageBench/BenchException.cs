namespace Bhyve.Aot.StorageBench;

/// <summary>A benchmark that cannot go on (bad option, missing tool, a target that failed); the message is one line for the user.</summary>
public sealed class BenchException(string message) : Exception(message);
