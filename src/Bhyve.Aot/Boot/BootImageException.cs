namespace Bhyve.Aot.Boot;

/// <summary>A kernel image we cannot boot; the message says what is wrong in words a user can act on.</summary>
public sealed class BootImageException(string message) : Exception(message);
