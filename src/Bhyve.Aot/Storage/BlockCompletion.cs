namespace Bhyve.Aot.Storage;

/// <summary>A finished request: the caller's user data and the result (bytes transferred, or -errno).
/// A result shorter than the request is a short transfer (e.g. a read at EOF); the device maps it to an I/O error.</summary>
public readonly record struct BlockCompletion(ulong UserData, int Result);
