using System.Text;
using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Api;

/// <summary>
/// Firecracker's logger: leveled lines to a file or FIFO (--log-path / PUT /logger), formatted as
/// "TIMESTAMP [ID:THREAD:LEVEL] message" (the level only with show_level). Rate-limited: at most
/// <see cref="LinesPerSecond"/> lines a second are written; the rest are counted and reported in one line when
/// writing resumes, so a guest that provokes messages cannot fill the disk.
/// </summary>
public sealed class VmmLogger : IDisposable
{
    public const int LinesPerSecond = 200;
    public enum Level { Off = 0, Error = 1, Warning = 2, Info = 3, Debug = 4, Trace = 5 }

    private readonly Lock _lock = new();
    private readonly string _id;
    private TextWriter? _writer;
    private Level _level = Level.Info;
    private bool _showLevel, _showOrigin;
    private long _windowStart;
    private int _windowLines;
    private long _suppressed;

    public VmmLogger(string instanceId) => _id = instanceId;

    public bool Configured { get { lock (_lock) return _writer is not null; } }

    /// <summary>Lines written, and lines dropped by the rate limit.</summary>
    public long Written { get; private set; }
    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>Parses Firecracker's level names, case-insensitively.</summary>
    public static bool TryParseLevel(string text, out Level level) =>
        Enum.TryParse(text, ignoreCase: true, out level) && Enum.IsDefined(level) && !int.TryParse(text, out _);

    /// <summary>Opens the log (appending to a file, or writing into a FIFO); throws ConfigException with one line on failure.</summary>
    public void Configure(LoggerSection section)
    {
        if (string.IsNullOrEmpty(section.LogPath)) throw new ConfigException("logger.log_path is missing");
        Level level = Level.Info;
        if (section.Level is { } text && !TryParseLevel(text, out level))
            throw new ConfigException($"logger.level \"{text}\": expected Error, Warning, Info, Debug, Trace or Off");
        TextWriter writer;
        try
        {
            var stream = new FileStream(section.LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException($"logger.log_path {section.LogPath}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}");
        }
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = writer;
            _level = level;
            _showLevel = section.ShowLevel ?? false;
            _showOrigin = section.ShowLogOrigin ?? false;
        }
    }

    public void Error(string message) => Write(Level.Error, message);
    public void Warn(string message) => Write(Level.Warning, message);
    public void Info(string message) => Write(Level.Info, message);
    public void Debug(string message) => Write(Level.Debug, message);

    public void Write(Level level, string message, string origin = "bhyve-aot")
    {
        lock (_lock)
        {
            if (_writer is null || level == Level.Off || level > _level) return;
            long now = Environment.TickCount64;
            if (now - _windowStart >= 1000)
            {
                if (_suppressed > 0)
                {
                    WriteLine(Level.Warning, $"{_suppressed} log lines were dropped by the rate limit ({LinesPerSecond} a second)", origin);
                    _suppressed = 0;
                }
                _windowStart = now;
                _windowLines = 0;
            }
            if (_windowLines >= LinesPerSecond)
            {
                _suppressed++;
                return;
            }
            _windowLines++;
            WriteLine(level, message, origin);
        }
    }

    private void WriteLine(Level level, string message, string origin)
    {
        var line = new StringBuilder();
        line.Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture));
        line.Append(" [").Append(_id).Append(':').Append(Thread.CurrentThread.Name ?? "main");
        if (_showLevel) line.Append(':').Append(level switch { Level.Warning => "WARN", _ => level.ToString().ToUpperInvariant() });
        if (_showOrigin) line.Append(':').Append(origin);
        line.Append("] ").Append(message);
        try
        {
            _writer!.WriteLine(line.ToString());
            Written++;
        }
        catch (IOException) { }
    }

    /// <summary>
    /// A TextWriter for stderr that also sends every complete line to this log (at Warning level), so the log holds
    /// what the terminal showed.
    /// </summary>
    public TextWriter Tee(TextWriter stderr) => new TeeWriter(stderr, this);

    private sealed class TeeWriter(TextWriter inner, VmmLogger log) : TextWriter
    {
        private readonly StringBuilder _line = new();
        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            inner.Write(value);
            lock (_line)
            {
                if (value == '\n') { log.Write(Level.Warning, _line.ToString().TrimEnd('\r')); _line.Clear(); }
                else _line.Append(value);
            }
        }

        public override void Write(string? value)
        {
            if (value is null) return;
            foreach (char c in value) Write(c);
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }

        public override void Flush() => inner.Flush();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }
}
