using System.Text;

namespace Bhyve.Aot.Api.Http;

/// <summary>
/// Reads HTTP/1.1 requests from one connection, for a fixed JSON API: a request line, headers (bounded in total),
/// and a body framed by Content-Length (bounded). Chunked bodies are refused (no API client sends them). Bytes of a
/// following pipelined request are kept for the next call.
/// </summary>
public sealed class HttpRequestReader
{
    private readonly Stream _stream;
    private readonly HttpLimits _limits;
    private readonly byte[] _buffer;
    private int _start, _end;

    public HttpRequestReader(Stream stream, HttpLimits limits)
    {
        _stream = stream;
        _limits = limits;
        _buffer = new byte[limits.MaxHeaderBytes + 4];
    }

    /// <summary>
    /// The next request, or null when the client closed the connection (or stayed idle past the idle timeout)
    /// between requests. Throws HttpRequestException for a malformed, oversized or too slow request.
    /// <paramref name="onExpectContinue"/> is called when the client waits for "100 Continue" before sending its body.
    /// </summary>
    public async Task<HttpRequest?> ReadAsync(Func<Task> onExpectContinue, CancellationToken stop)
    {
        // Idle: wait for the first byte of the next request.
        if (_start == _end)
        {
            _start = _end = 0;
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
            idle.CancelAfter(_limits.IdleTimeout);
            int n;
            try { n = await _stream.ReadAsync(_buffer.AsMemory(0), idle.Token); }
            catch (OperationCanceledException) { return null; }
            catch (IOException) { return null; }
            if (n == 0) return null;
            _end = n;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(_limits.RequestTimeout);
        try
        {
            int headerEnd;
            while ((headerEnd = IndexOfHeaderEnd()) < 0)
            {
                if (_end - _start >= _limits.MaxHeaderBytes)
                    throw new HttpRequestException(431, $"the request line and headers are larger than {_limits.MaxHeaderBytes} bytes");
                Compact();
                int n = await _stream.ReadAsync(_buffer.AsMemory(_end, Math.Min(_buffer.Length, _limits.MaxHeaderBytes) - _end), deadline.Token);
                if (n == 0) throw new HttpRequestException(400, "the connection closed in the middle of a request");
                _end += n;
            }
            var head = ParseHead(_buffer.AsSpan(_start, headerEnd - _start));
            _start = headerEnd + 4;

            var body = new byte[head.ContentLength];
            int have = Math.Min(_end - _start, body.Length);
            _buffer.AsSpan(_start, have).CopyTo(body);
            _start += have;
            if (have < body.Length && head.ExpectContinue) await onExpectContinue();
            while (have < body.Length)
            {
                int n = await _stream.ReadAsync(body.AsMemory(have), deadline.Token);
                if (n == 0) throw new HttpRequestException(400, "the connection closed before the whole body arrived");
                have += n;
            }
            return new HttpRequest(head.Method, head.Path, body, head.KeepAlive);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new HttpRequestException(408, $"the request did not arrive within {_limits.RequestTimeout.TotalSeconds:0} s");
        }
        catch (IOException e)
        {
            throw new HttpRequestException(400, $"reading the request failed: {e.Message}");
        }
    }

    private readonly record struct Head(string Method, string Path, int ContentLength, bool KeepAlive, bool ExpectContinue);

    private Head ParseHead(ReadOnlySpan<byte> head)
    {
        // Only ASCII is valid in a request head; anything else is a malformed request, not text to decode.
        foreach (byte b in head)
            if (b >= 0x80 || (b < 0x20 && b is not (byte)'\r' and not (byte)'\n' and not (byte)'\t'))
                throw new HttpRequestException(400, "the request head holds bytes that are not HTTP");
        string text = Encoding.ASCII.GetString(head);
        string[] lines = text.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0].Length == 0 || !requestLine[1].StartsWith('/'))
            throw new HttpRequestException(400, "the request line is not METHOD /path HTTP/1.1");
        if (requestLine[2] is not ("HTTP/1.1" or "HTTP/1.0"))
            throw new HttpRequestException(505, $"{requestLine[2]} is not supported (HTTP/1.1 is)");
        foreach (char c in requestLine[0])
            if (c is < 'A' or > 'Z') throw new HttpRequestException(400, "the request method is not a method name");
        bool keepAlive = requestLine[2] == "HTTP/1.1";
        int contentLength = 0;
        bool sawLength = false, expectContinue = false;
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new HttpRequestException(400, "a header line has no name");
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (sawLength || !int.TryParse(value, System.Globalization.NumberStyles.None, null, out contentLength))
                    throw new HttpRequestException(400, "Content-Length is not one whole number");
                sawLength = true;
                if (contentLength > _limits.MaxBodyBytes)
                    throw new HttpRequestException(413, $"the body of {contentLength} bytes is larger than the limit of {_limits.MaxBodyBytes} bytes");
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                throw new HttpRequestException(501, "Transfer-Encoding is not supported; send Content-Length");
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Equals("close", StringComparison.OrdinalIgnoreCase)) keepAlive = false;
                else if (value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)) keepAlive = true;
            }
            else if (name.Equals("Expect", StringComparison.OrdinalIgnoreCase))
                expectContinue = value.Equals("100-continue", StringComparison.OrdinalIgnoreCase);
        }
        string path = requestLine[1];
        int query = path.IndexOfAny(['?', '#']);
        if (query >= 0) path = path[..query];
        return new Head(requestLine[0], path, contentLength, keepAlive, expectContinue);
    }

    private int IndexOfHeaderEnd()
    {
        int i = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
        return i < 0 ? -1 : _start + i;
    }

    private void Compact()
    {
        if (_start == 0) return;
        _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
        _end -= _start;
        _start = 0;
    }
}
