namespace Bhyve.Aot.Api.Http;

/// <summary>
/// Bounds on what one client may send, so a slow, huge or hostile client costs a bounded amount of memory and time.
/// The body limit is Firecracker's default http-api-max-payload-size (51200 bytes).
/// </summary>
public sealed record HttpLimits
{
    public int MaxHeaderBytes { get; init; } = 8 * 1024;
    public int MaxBodyBytes { get; init; } = 51_200;
    /// <summary>A request, once its first byte has arrived, must be complete within this time.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A kept-alive connection with no request in progress is closed after this time.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Connections open at once; more are closed as they are accepted.</summary>
    public int MaxConnections { get; init; } = 64;

    public static HttpLimits Default { get; } = new();
}
