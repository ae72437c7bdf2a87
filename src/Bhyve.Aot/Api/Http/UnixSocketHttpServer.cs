using System.Net.Sockets;

namespace Bhyve.Aot.Api.Http;

/// <summary>
/// An HTTP/1.1 server on a Unix socket. Connections are read concurrently (a slow client holds only its own
/// connection), but requests are handled one at a time, in arrival order, by the single handler. Runs on the
/// thread pool, never on a vCPU or device thread. A malformed request gets one error response and its connection
/// is closed; nothing a client sends ends the server.
/// </summary>
public sealed class UnixSocketHttpServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<HttpRequest, HttpResponse> _handler;
    private readonly Func<int, string, HttpResponse> _errorResponse;
    private readonly HttpLimits _limits;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private int _connections;
    private Task? _acceptLoop;

    public string Path { get; }

    /// <summary>Binds the socket; fails (SocketException) when the path exists or cannot be created, as Firecracker does.</summary>
    /// <param name="errorResponse">turns a refused request (status, reason) into the response the API gives for it</param>
    public UnixSocketHttpServer(string path, Func<HttpRequest, HttpResponse> handler, Func<int, string, HttpResponse> errorResponse, HttpLimits? limits = null)
    {
        Path = path;
        _handler = handler;
        _errorResponse = errorResponse;
        _limits = limits ?? HttpLimits.Default;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(128);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    /// <summary>Requests handled so far (answered, refused ones included).</summary>
    public long Requests => Interlocked.Read(ref _requests);
    private long _requests;

    public void Start() => _acceptLoop = Task.Run(AcceptLoop);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { await Task.Delay(10); continue; }
            if (Interlocked.Increment(ref _connections) > _limits.MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            var reader = new HttpRequestReader(stream, _limits);
            while (!_stop.IsCancellationRequested)
            {
                HttpRequest? request;
                try
                {
                    request = await reader.ReadAsync(() => stream.WriteAsync(new HttpResponse(100).EncodeInterim()).AsTask(), _stop.Token);
                }
                catch (HttpRequestException e)
                {
                    Interlocked.Increment(ref _requests);
                    await WriteWithTimeout(stream, _errorResponse(e.Status, e.Message).Encode(keepAlive: false));
                    return;
                }
                if (request is null) return;
                HttpResponse response;
                await _oneAtATime.WaitAsync(_stop.Token);
                try
                {
                    Interlocked.Increment(ref _requests);
                    response = _handler(request);
                }
                finally { _oneAtATime.Release(); }
                if (!await WriteWithTimeout(stream, response.Encode(request.KeepAlive))) return;
                if (!request.KeepAlive) return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away: its connection ends, the server goes on.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>A client that does not read its responses loses its connection instead of holding the server.</summary>
    private async Task<bool> WriteWithTimeout(Stream stream, byte[] bytes)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(_limits.RequestTimeout);
        try
        {
            await stream.WriteAsync(bytes, deadline.Token);
            return true;
        }
        catch (OperationCanceledException) { return false; }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
