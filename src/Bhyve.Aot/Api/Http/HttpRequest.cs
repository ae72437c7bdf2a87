namespace Bhyve.Aot.Api.Http;

/// <summary>One parsed HTTP/1.1 request: method, path (query removed), body bytes, and whether the client keeps the connection.</summary>
public sealed record HttpRequest(string Method, string Path, byte[] Body, bool KeepAlive);

/// <summary>A request the reader refused: the status to answer with, one line saying why, and the connection is then closed.</summary>
public sealed class HttpRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
