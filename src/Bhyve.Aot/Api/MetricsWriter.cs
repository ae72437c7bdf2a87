using System.Text.Json;
using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Api;

/// <summary>
/// Firecracker-style metrics: one JSON object per line to a file or FIFO (--metrics-path / PUT /metrics), written
/// every <see cref="Period"/> and on FlushMetrics. A line holds utc_timestamp_ms, the API's counters and whatever the
/// running machine adds (vCPU exits, disk and NVMe counters, console bytes). Flushes are rate-limited to
/// <see cref="MaxFlushesPerSecond"/> a second, so a client looping on FlushMetrics cannot fill the disk.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(60);
    public const int MaxFlushesPerSecond = 10;

    private readonly Lock _lock = new();
    private readonly Action<Utf8JsonWriter> _content;
    private Stream? _output;
    private Timer? _timer;
    private string? _id;
    private Dictionary<string, string>? _properties;
    private long _windowStart;
    private int _windowFlushes;

    /// <param name="content">writes the counters' fields into the line's object</param>
    public MetricsWriter(Action<Utf8JsonWriter> content) => _content = content;

    public bool Configured { get { lock (_lock) return _output is not null; } }
    public long LinesWritten { get; private set; }

    /// <summary>Opens the metrics file or FIFO and starts the periodic writer; throws ConfigException with one line on failure.</summary>
    public void Configure(MetricsSection section, string instanceId)
    {
        if (string.IsNullOrEmpty(section.MetricsPath)) throw new ConfigException("metrics.metrics_path is missing");
        lock (_lock)
            if (_output is not null) throw new ConfigException("metrics: reinitialization of metrics is not allowed");
        Stream output;
        try { output = new FileStream(section.MetricsPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException($"metrics.metrics_path {section.MetricsPath}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}");
        }
        lock (_lock)
        {
            _output = output;
            _id = section.EmitId == true ? instanceId : null;
            _properties = section.Properties;
            _timer = new Timer(_ => Flush(periodic: true), null, Period, Period);
        }
    }

    /// <summary>Writes one line now; returns null, or why not (not configured, rate limit, write error).</summary>
    public string? Flush(bool periodic = false)
    {
        lock (_lock)
        {
            if (_output is null) return "metrics are not configured (PUT /metrics or --metrics-path first)";
            long now = Environment.TickCount64;
            if (now - _windowStart >= 1000) { _windowStart = now; _windowFlushes = 0; }
            if (!periodic && ++_windowFlushes > MaxFlushesPerSecond) return $"metrics are flushed at most {MaxFlushesPerSecond} times a second";
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("utc_timestamp_ms", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                if (_id is not null) json.WriteString("id", _id);
                if (_properties is not null)
                {
                    json.WriteStartObject("properties");
                    foreach (var (k, v) in _properties) json.WriteString(k, v);
                    json.WriteEndObject();
                }
                _content(json);
                json.WriteEndObject();
            }
            try
            {
                _output.Write(buffer.WrittenSpan);
                _output.WriteByte((byte)'\n');
                _output.Flush();
                LinesWritten++;
                return null;
            }
            catch (IOException e) { return $"writing the metrics failed: {e.Message}"; }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _output?.Dispose();
            _output = null;
        }
    }
}
