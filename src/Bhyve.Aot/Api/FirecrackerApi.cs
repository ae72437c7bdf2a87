using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bhyve.Aot.Api.Http;
using Bhyve.Aot.Config;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Api;

/// <summary>
/// Firecracker's REST API (paths, bodies, status codes and pre-boot/post-boot rules from Firecracker's swagger):
/// before InstanceStart, PUT/PATCH requests build up a machine file (the same sections a config file has); InstanceStart
/// turns it into a VmConfig and asks the front end to boot it; after that only the run-time requests are accepted.
/// Every request is handled on the API server's thread, one at a time; nothing here runs on a vCPU.
/// </summary>
public sealed class FirecrackerApi
{
    /// <summary>The Firecracker API version whose swagger these paths and rules follow.</summary>
    public const string FirecrackerApiVersion = "1.17.0-dev";
    private const string NotBuiltSuffix = "is not built in bhyve-aot yet";

    private readonly string _id;
    private readonly string _vmmVersion;
    private readonly Func<VmConfig, string?> _start;
    private readonly MachineFile _pending = new() { Drives = [], Nvme = [] };
    private readonly VmmLogger _logger;
    private readonly MetricsWriter _metrics;
    private VmConfig? _running;
    private IVmControl? _control;
    private long _requests, _faults;

    /// <param name="start">boots a machine; blocks until the guest is running (null) or the start failed (one line)</param>
    public FirecrackerApi(string instanceId, string vmmVersion, Func<VmConfig, string?> start, VmmLogger logger, MetricsWriter metrics)
    {
        _id = instanceId;
        _vmmVersion = vmmVersion;
        _start = start;
        _logger = logger;
        _metrics = metrics;
    }

    public long Requests => Interlocked.Read(ref _requests);
    public long Faults => Interlocked.Read(ref _faults);
    public bool Started => _running is not null;

    /// <summary>The machine was started another way (a config file, `run` options): from now on the API is post-boot.</summary>
    public void SetRunning(VmConfig config, IVmControl? control)
    {
        _running = config;
        _control = control;
    }

    /// <summary>The API's own counters, for the metrics line.</summary>
    public void WriteMetrics(Utf8JsonWriter json)
    {
        json.WriteStartObject("api_server");
        json.WriteNumber("requests", Requests);
        json.WriteNumber("faults", Faults);
        json.WriteEndObject();
        json.WriteStartObject("logger");
        json.WriteNumber("lines", _logger.Written);
        json.WriteNumber("rate_limited_lines", _logger.Suppressed);
        json.WriteEndObject();
        _control?.WriteMetrics(json);
    }

    /// <summary>A request the HTTP layer refused (malformed, too large, too slow): Firecracker's fault body.</summary>
    public HttpResponse Refused(int status, string reason)
    {
        Interlocked.Increment(ref _requests);
        return Fault(status, reason);
    }

    public HttpResponse Handle(HttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        string body;
        try { body = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(request.Body); }
        catch (DecoderFallbackException) { return Fault(400, "the request body is not UTF-8 JSON"); }
        try
        {
            var response = Route(request.Method, request.Path, body);
            _logger.Debug($"{request.Method} {request.Path}: {response.Status}");
            return response;
        }
        catch (ConfigException e) { return Fault(400, e.Message); }
    }

    private HttpResponse Route(string method, string path, string body)
    {
        string[] parts = path.Trim('/').Split('/');
        if (path == "/") parts = [];
        if (method == "GET" && body.Length > 0) return Fault(400, "GET request cannot have a body.");
        if (method is "PUT" or "PATCH" && body.Length == 0) return Fault(400, $"Empty {method} request.");
        return (method, parts) switch
        {
            ("GET", []) => Json(200, Describe(), ApiJsonContext.Relaxed.InstanceInfo),
            ("GET", ["version"]) => Json(200, new VersionInfo { FirecrackerVersion = FirecrackerApiVersion }, ApiJsonContext.Relaxed.VersionInfo),
            ("GET", ["machine-config"]) => Json(200, EffectiveMachineConfig(), MachineFileJsonContext.Printable.MachineConfigSection),
            ("PUT", ["machine-config"]) => PreBoot("machine-config", () => PutMachineConfig(body, patch: false)),
            ("PATCH", ["machine-config"]) => PreBoot("machine-config", () => PutMachineConfig(body, patch: true)),
            ("PUT", ["boot-source"]) => PreBoot("boot-source", () => PutBootSource(body)),
            ("PUT", ["drives", var id]) => PreBoot("drives", () => PutDrive(id, body)),
            ("PATCH", ["drives", var id]) => PatchDrive(id, body),
            ("PUT", ["nvme", var id]) => PreBoot("nvme", () => PutNvme(id, body)),
            ("PUT", ["logger"]) => PreBoot("logger", () => PutLogger(body)),
            ("PUT", ["metrics"]) => PreBoot("metrics", () => PutMetrics(body)),
            ("PUT", ["actions"]) => PutAction(body),
            ("PATCH", ["vm"]) => PatchVm(body),
            ("GET", ["vm", "config"]) => new HttpResponse(200, FullConfig()),
            ("PUT", ["network-interfaces", _]) => Fault(400, $"network interfaces: virtio-net {NotBuiltSuffix}"),
            ("PUT", ["vsock"]) => Fault(400, $"vsock: virtio-vsock {NotBuiltSuffix}"),
            ("PUT", ["entropy"]) => Fault(400, $"entropy: virtio-rng {NotBuiltSuffix}"),
            _ => Fault(400, $"Invalid request method and/or path: {method} {path}."),
        };
    }

    private InstanceInfo Describe() => new()
    {
        AppName = "bhyve-aot",
        Id = _id,
        State = _running is null ? "Not started" : _control?.Paused == true ? "Paused" : "Running",
        VmmVersion = _vmmVersion,
    };

    private HttpResponse PreBoot(string what, Func<HttpResponse> action) =>
        _running is null ? action() : Fault(400, $"{what}: the requested operation is not supported after starting the microVM.");

    private HttpResponse PutMachineConfig(string body, bool patch)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.MachineConfigSection, "machine-config");
        MachineConfigSection next;
        if (patch)
        {
            var old = _pending.MachineConfig ?? new MachineConfigSection();
            next = new MachineConfigSection
            {
                VcpuCount = given.VcpuCount ?? old.VcpuCount,
                MemSizeMib = given.MemSizeMib ?? (given.MemSize is null ? old.MemSizeMib : null),
                MemSize = given.MemSize ?? (given.MemSizeMib is null ? old.MemSize : null),
                HugePages = given.HugePages ?? old.HugePages,
                CpuidHide = given.CpuidHide ?? old.CpuidHide,
                Smt = given.Smt ?? old.Smt,
                TrackDirtyPages = given.TrackDirtyPages ?? old.TrackDirtyPages,
                CpuTemplate = given.CpuTemplate ?? old.CpuTemplate,
            };
        }
        else
        {
            // Firecracker's MachineConfiguration requires both on PUT.
            if (given.VcpuCount is null) throw new ConfigException("machine-config: vcpu_count is missing");
            if (given.MemSizeMib is null && given.MemSize is null) throw new ConfigException("machine-config: mem_size_mib is missing");
            next = given;
        }
        if (next.VcpuCount is { } n && n is < 1 or > 32) throw new ConfigException($"machine-config.vcpu_count {n}: expected 1 to 32");
        Trial(f => f.MachineConfig = next);
        _pending.MachineConfig = next;
        return HttpResponse.NoContent;
    }

    private HttpResponse PutBootSource(string body)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.BootSourceSection, "boot-source");
        if (string.IsNullOrEmpty(given.KernelImagePath)) throw new ConfigException("boot-source: kernel_image_path is missing");
        RequireFile(given.KernelImagePath, "boot-source.kernel_image_path");
        if (given.InitrdPath is { } initrd) RequireFile(initrd, "boot-source.initrd_path");
        Trial(f => f.BootSource = given);
        _pending.BootSource = given;
        return HttpResponse.NoContent;
    }

    private HttpResponse PutDrive(string id, string body)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.DriveEntry, $"drives/{id}");
        if (given.DriveId != id) throw new ConfigException("drives: the id from the path does not match the id from the body");
        if (string.IsNullOrEmpty(given.PathOnHost)) throw new ConfigException($"drives/{id}: path_on_host is missing");
        if (given.CreateSize is null) RequireFile(given.PathOnHost, $"drives/{id}.path_on_host");
        var drives = _pending.Drives!.Where(d => d.DriveId != id).ToList();
        int at = _pending.Drives!.FindIndex(d => d.DriveId == id);
        if (at < 0) drives.Add(given); else drives.Insert(at, given);
        Trial(f => f.Drives = drives);
        _pending.Drives = drives;
        return HttpResponse.NoContent;
    }

    private HttpResponse PatchDrive(string id, string body)
    {
        var given = MachineFileReader.ParseSection(body, ApiJsonContext.Default.PartialDrive, $"drives/{id}");
        if (given.DriveId != id) throw new ConfigException("drives: the id from the path does not match the id from the body");
        if (_running is null)
        {
            int at = _pending.Drives!.FindIndex(d => d.DriveId == id);
            if (at < 0) throw new ConfigException($"drives/{id}: no such drive (PUT it first)");
            if (given.RateLimiter is { ValueKind: not JsonValueKind.Null }) throw new ConfigException($"drives/{id}.rate_limiter: rate limiting is not built yet");
            if (given.PathOnHost is { } path)
            {
                RequireFile(path, $"drives/{id}.path_on_host");
                _pending.Drives[at].PathOnHost = path;
            }
            return HttpResponse.NoContent;
        }
        // Swapping the backing file of a running virtio-blk disk (with a config-change interrupt) needs the device
        // runtime's support; until then this says so instead of pretending.
        return Fault(400, $"drives/{id}: changing a drive of a running microVM {NotBuiltSuffix}");
    }

    private HttpResponse PutNvme(string id, string body)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.NvmeEntry, $"nvme/{id}");
        if (given.DriveId != id) throw new ConfigException("nvme: the id from the path does not match the id from the body");
        if (given.PathOnHost is { } path && given.CreateSize is null) RequireFile(path, $"nvme/{id}.path_on_host");
        var list = _pending.Nvme!.Where(n => n.DriveId != id).ToList();
        int at = _pending.Nvme!.FindIndex(n => n.DriveId == id);
        if (at < 0) list.Add(given); else list.Insert(at, given);
        Trial(f => f.Nvme = list);
        _pending.Nvme = list;
        return HttpResponse.NoContent;
    }

    private HttpResponse PutLogger(string body)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.LoggerSection, "logger");
        _logger.Configure(given);
        _pending.Logger = given;
        return HttpResponse.NoContent;
    }

    private HttpResponse PutMetrics(string body)
    {
        var given = MachineFileReader.ParseSection(body, MachineFileJsonContext.Default.MetricsSection, "metrics");
        _metrics.Configure(given, _id);
        _pending.Metrics = given;
        return HttpResponse.NoContent;
    }

    private HttpResponse PutAction(string body)
    {
        var action = MachineFileReader.ParseSection(body, ApiJsonContext.Default.InstanceAction, "actions");
        switch (action.ActionType)
        {
            case "InstanceStart":
                if (_running is not null) return Fault(400, "InstanceStart: the microVM is already running.");
                var config = MachineFileReader.ToVmConfig(Copy(_pending));
                _logger.Info("InstanceStart: booting " + config.KernelPath);
                if (_start(config) is { } failure) return Fault(400, $"Start microvm error: {failure}");
                return HttpResponse.NoContent;
            case "SendCtrlAltDel":
                if (_control is null) return Fault(400, "SendCtrlAltDel: the requested operation is not supported before starting the microVM.");
                return _control.SendCtrlAltDel() is { } why ? Fault(400, $"SendCtrlAltDel: {why}") : HttpResponse.NoContent;
            case "FlushMetrics":
                return _metrics.Flush() is { } error ? Fault(400, $"FlushMetrics: {error}") : HttpResponse.NoContent;
            case null:
                throw new ConfigException("actions: action_type is missing");
            default:
                throw new ConfigException($"actions.action_type \"{action.ActionType}\": expected InstanceStart, SendCtrlAltDel or FlushMetrics");
        }
    }

    private HttpResponse PatchVm(string body)
    {
        var request = MachineFileReader.ParseSection(body, ApiJsonContext.Default.VmStateRequest, "vm");
        if (request.State is not ("Paused" or "Resumed"))
            throw new ConfigException(request.State is null ? "vm: state is missing" : $"vm.state \"{request.State}\": expected Paused or Resumed");
        if (_control is null) return Fault(400, "vm: the requested operation is not supported before starting the microVM.");
        string? why = request.State == "Paused" ? _control.Pause() : _control.Resume();
        return why is null ? HttpResponse.NoContent : Fault(400, $"vm: {why}");
    }

    /// <summary>GET /vm/config: the effective configuration as `config print` writes it once it is complete; before that, what was given.</summary>
    private string FullConfig()
    {
        if (_running is not null) return MachineFileWriter.Write(_running);
        try { return MachineFileWriter.Write(MachineFileReader.ToVmConfig(Copy(_pending))); }
        catch (ConfigException) { return JsonSerializer.Serialize(_pending, MachineFileJsonContext.Printable.MachineFile); }
    }

    private MachineConfigSection EffectiveMachineConfig()
    {
        var m = _running is not null ? MachineFileWriter.FromVmConfig(_running).MachineConfig! : _pending.MachineConfig ?? new MachineConfigSection();
        return new MachineConfigSection
        {
            VcpuCount = m.VcpuCount ?? 1,
            MemSizeMib = m.MemSizeMib ?? (m.MemSize is null ? VmConfig.DefaultMemoryBytes >> 20 : null),
            MemSize = m.MemSize,
            HugePages = m.HugePages ?? "None",
            CpuidHide = m.CpuidHide,
            Smt = m.Smt ?? _pending.MachineConfig?.Smt ?? false,
            TrackDirtyPages = m.TrackDirtyPages ?? _pending.MachineConfig?.TrackDirtyPages ?? false,
            CpuTemplate = m.CpuTemplate ?? _pending.MachineConfig?.CpuTemplate,
        };
    }

    /// <summary>Validates a change against the whole machine the way InstanceStart will, before keeping it.</summary>
    private void Trial(Action<MachineFile> change)
    {
        var trial = Copy(_pending);
        change(trial);
        // Without a kernel yet, the rest can still be checked: a placeholder stands in for it.
        trial.BootSource ??= new BootSourceSection { KernelImagePath = "(not set yet)" };
        MachineFileReader.ToVmConfig(trial);
    }

    private static MachineFile Copy(MachineFile f) => new()
    {
        Name = f.Name,
        BootSource = f.BootSource,
        MachineConfig = f.MachineConfig,
        Drives = f.Drives is null ? null : [.. f.Drives],
        Nvme = f.Nvme is null ? null : [.. f.Nvme],
    };

    private static void RequireFile(string path, string field)
    {
        if (!File.Exists(path)) throw new ConfigException($"{field} {path}: cannot be opened: no such file");
    }

    private HttpResponse Fault(int status, string message)
    {
        Interlocked.Increment(ref _faults);
        _logger.Warn($"API request refused ({status}): {message}");
        return Json(status, new ApiFault { FaultMessage = message }, ApiJsonContext.Relaxed.ApiFault);
    }

    private static HttpResponse Json<T>(int status, T value, JsonTypeInfo<T> type) => new(status, JsonSerializer.Serialize(value, type));
}
