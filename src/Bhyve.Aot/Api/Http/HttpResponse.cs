using System.Text;

namespace Bhyve.Aot.Api.Http;

/// <summary>One response: a status and an optional JSON body.</summary>
public sealed record HttpResponse(int Status, string? JsonBody = null)
{
    public static readonly HttpResponse NoContent = new(204);

    public static string Reason(int status) => status switch
    {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    };

    /// <summary>An interim response ("100 Continue"): status line only.</summary>
    public byte[] EncodeInterim() => Encoding.ASCII.GetBytes($"HTTP/1.1 {Status} {Reason(Status)}\r\n\r\n");

    /// <summary>The bytes on the wire, Firecracker's way: JSON content type, explicit length, no body for 204.</summary>
    public byte[] Encode(bool keepAlive)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(Status).Append(' ').Append(Reason(Status)).Append("\r\n");
        head.Append("Server: bhyve-aot API\r\n");
        head.Append(keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
        byte[] body = JsonBody is null ? [] : Encoding.UTF8.GetBytes(JsonBody);
        if (Status != 204)
        {
            head.Append("Content-Type: application/json\r\n");
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }
        head.Append("\r\n");
        byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
        return [.. headBytes, .. body];
    }
}
