namespace Bhyve.Aot.Storage;

/// <summary>One segment of a request: a host pointer into guest RAM and its length (laid out as struct iovec).</summary>
public readonly record struct IoVec(nint Base, nuint Length);
