using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;

namespace Bhyve.Aot.Tests.Support;

/// <summary>
/// A bhyve-aot process serving the Firecracker API on its own socket, with an HttpClient that speaks HTTP over that
/// Unix socket, curl for the same requests, and the guest's console on stdin/stdout. Disposing kills it if it still runs.
/// </summary>
internal sealed class ApiVm : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly TaskCompletionSource _firstStdout = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Socket { get; }
    public string Directory { get; }
    public HttpClient Http { get; }

    private ApiVm(Process process, string socket, string directory)
    {
        _process = process;
        Socket = socket;
        Directory = directory;
        Http = ForSocket(socket);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) _stdout.Append(e.Data).Append('\n'); _firstStdout.TrySetResult(); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>An HttpClient whose every connection is a new connection to the Unix socket.</summary>
    public static HttpClient ForSocket(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, token) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), token);
            return new NetworkStream(s, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://localhost/"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Starts bhyve-aot with these arguments (the socket's path replaces {sock}) and waits for the socket to appear.</summary>
    public static async Task<ApiVm> StartAsync(string program, params string[] args)
    {
        Repo.RequireKvm();
        string dir = Path.Combine(Path.GetTempPath(), $"bhyve-aot-api-{Guid.NewGuid():N}"[..24]);
        System.IO.Directory.CreateDirectory(dir);
        string socket = Path.Combine(dir, "api.sock");
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a.Replace("{sock}", socket).Replace("{dir}", dir));
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var vm = new ApiVm(process, socket, dir);
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(20))
                throw new InvalidOperationException($"the API socket did not appear: {await vm.WaitForExitAsync(TimeSpan.FromSeconds(1))}");
            await Task.Delay(10);
        }
        return vm;
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;
    public Task FirstStdoutLine => _firstStdout.Task;

    /// <summary>Sends bytes to the guest's console (hello.elf with hold=1 goes on when one arrives).</summary>
    public void Type(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bhyve-aot did not exit within {timeout.TotalSeconds} s\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}");
        }
        _process.WaitForExit(); // flushes the redirected output
        return new ProcessResult(_process.ExitCode, Stdout, Stderr);
    }

    /// <summary>One request; returns the status and the body.</summary>
    public async Task<(int Status, string Body)> SendAsync(string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The same request through curl --unix-socket, as Firecracker's getting-started guide sends it.</summary>
    public async Task<(int Status, string Body)> CurlAsync(string method, string path, string? data = null)
    {
        var args = new List<string> { "-s", "--unix-socket", Socket, "-X", method, "-w", "\n%{http_code}", $"http://localhost{path}" };
        if (data is not null) { args.Add("--data"); args.Add(data); }
        var r = await ProcessRunner.RunAsync("curl", args, TimeSpan.FromSeconds(20));
        int cut = r.Stdout.LastIndexOf('\n');
        return (int.Parse(r.Stdout[(cut + 1)..]), r.Stdout[..cut]);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
