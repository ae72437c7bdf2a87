namespace Bhyve.Aot.Storage;

/// <summary>A backing file that cannot be used, with a one-line reason that names the path.</summary>
public sealed class BlockFileException(string message, int errno = 0) : Exception(message)
{
    /// <summary>The errno behind the failure, or 0 when it is a policy refusal (bad size, ...).</summary>
    public int Errno { get; } = errno;
}
