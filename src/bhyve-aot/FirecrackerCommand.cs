using System.CommandLine;
using System.Net.Sockets;
using System.Reflection;
using Bhyve.Aot.Api;
using Bhyve.Aot.Api.Http;
using Bhyve.Aot.Config;
using Bhyve.Aot.Os;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// Firecracker's command line (flags and meanings from Firecracker's src/firecracker/src/main.rs): invoked as
/// `firecracker` this is the whole CLI; as bhyve-aot it is chosen when the first argument is one of its flags.
/// With the API (the default) the process serves Firecracker's REST API on --api-sock and boots on InstanceStart;
/// with --no-api it boots --config-file at once.
/// </summary>
public static class FirecrackerCommand
{
    public const string DefaultApiSocket = "/run/firecracker.socket";
    public const string DefaultInstanceId = "anonymous-instance";

    private static readonly string[] OwnFlags =
    [
        "--api-sock", "--config-file", "--no-api", "--id", "--log-path", "--level", "--module", "--show-level", "--show-log-origin",
        "--metrics-path", "--boot-timer", "--seccomp-filter", "--no-seccomp", "--start-time-us", "--start-time-cpu-us",
        "--parent-cpu-time-us", "--http-api-max-payload-size", "--mmds-size-limit", "--enable-pci", "--metadata",
    ];

    /// <summary>Firecracker's CLI applies when the program is called `firecracker`, or the first argument is one of its flags.</summary>
    public static bool Matches(string programName, IReadOnlyList<string> args) =>
        Path.GetFileName(programName) == "firecracker" || (args.Count > 0 && OwnFlags.Contains(args[0].Split('=')[0]));

    public static string VmmVersion =>
        typeof(FirecrackerCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Execute(string[] args)
    {
        var apiSock = new Option<string>("--api-sock") { Description = "Path to unix domain socket used by the API.", DefaultValueFactory = _ => DefaultApiSocket };
        var id = new Option<string>("--id") { Description = "MicroVM unique identifier.", DefaultValueFactory = _ => DefaultInstanceId };
        var configFile = new Option<string?>("--config-file") { Description = "Path to a file that contains the microVM configuration in JSON format." };
        var noApi = new Option<bool>("--no-api") { Description = "Optional parameter which allows starting and using a microVM without an active API socket." };
        var logPath = new Option<string?>("--log-path") { Description = "Path to a fifo or a file used for configuring the logger on startup." };
        var level = new Option<string?>("--level") { Description = "Set the logger level." };
        var module = new Option<string?>("--module") { Description = "Set the logger module filter (accepted; bhyve-aot's lines have no module paths)." };
        var showLevel = new Option<bool>("--show-level") { Description = "Whether or not to output the level in the logs." };
        var showOrigin = new Option<bool>("--show-log-origin") { Description = "Whether or not to include the file path and line number of the log's origin." };
        var metricsPath = new Option<string?>("--metrics-path") { Description = "Path to a fifo or a file used for configuring the metrics on startup." };
        var bootTimer = new Option<bool>("--boot-timer") { Description = "Whether or not to load boot timer device for logging elapsed time since InstanceStart command (accepted; not built yet, see README)." };
        var seccompFilter = new Option<string?>("--seccomp-filter") { Description = "Accepted for compatibility; seccomp filtering is bhyve-aot's own (not applied from this file)." };
        var noSeccomp = new Option<bool>("--no-seccomp") { Description = "Disable seccomp filtering (bhyve-aot's own filters, as `run --seccomp off`)." };
        var startTime = new Option<ulong?>("--start-time-us") { Description = "Process start time (wall clock, microseconds); accepted." };
        var startCpu = new Option<ulong?>("--start-time-cpu-us") { Description = "Process start CPU time (microseconds); accepted." };
        var parentCpu = new Option<ulong?>("--parent-cpu-time-us") { Description = "Parent process CPU time (microseconds); accepted." };
        var payload = new Option<int>("--http-api-max-payload-size") { Description = "Http API request payload max size, in bytes.", DefaultValueFactory = _ => HttpLimits.Default.MaxBodyBytes };
        var enablePci = new Option<bool>("--enable-pci") { Description = "Enables PCIe support (bhyve-aot's devices are always PCI)." };
        var version = new Option<bool>("--version") { Description = "Print the binary version number." };

        var root = new RootCommand("bhyve-aot as Firecracker: Firecracker's command line and REST API (README: FIRECRACKER API).")
        {
            apiSock, id, configFile, noApi, logPath, level, module, showLevel, showOrigin, metricsPath, bootTimer, seccompFilter, noSeccomp,
            startTime, startCpu, parentCpu, payload, enablePci,
        };
        // Firecracker's own --version, replacing System.CommandLine's.
        foreach (var o in root.Options.OfType<VersionOption>().ToList()) root.Options.Remove(o);
        root.Options.Add(version);
        root.SetAction(r =>
        {
            if (r.GetValue(version))
            {
                Console.Out.WriteLine($"Firecracker v{FirecrackerApi.FirecrackerApiVersion} (bhyve-aot {VmmVersion})\n");
                return 0;
            }
            if (r.GetValue(seccompFilter) is not null && r.GetValue(noSeccomp))
                return Report.Fail(ExitCodes.Usage, "--seccomp-filter and --no-seccomp cannot be used together");
            string instance = r.GetValue(id)!;
            if (instance.Length is 0 or > 64 || !instance.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                return Report.Fail(ExitCodes.Usage, $"--id '{instance}': 1 to 64 characters, letters, digits and '-'");
            if (r.GetValue(payload) <= 0) return Report.Fail(ExitCodes.Usage, "--http-api-max-payload-size: a positive number of bytes");
            RunCommand.SeccompEnabled = !r.GetValue(noSeccomp);

            var logger = new VmmLogger(instance);
            FirecrackerApi? api = null;
            var metrics = new MetricsWriter(json => api?.WriteMetrics(json));
            try
            {
                if (r.GetValue(logPath) is { } log)
                {
                    logger.Configure(new LoggerSection { LogPath = log, Level = r.GetValue(level), ShowLevel = r.GetValue(showLevel), ShowLogOrigin = r.GetValue(showOrigin) });
                    Console.SetError(logger.Tee(Console.Error));
                }
                else if (r.GetValue(level) is { } lonely && !VmmLogger.TryParseLevel(lonely, out _))
                    return Report.Fail(ExitCodes.Usage, $"--level '{lonely}': expected Error, Warning, Info, Debug, Trace or Off");
                if (r.GetValue(metricsPath) is { } path) metrics.Configure(new MetricsSection { MetricsPath = path }, instance);
            }
            catch (ConfigException e) { return Report.Fail(ExitCodes.Usage, e.Message); }
            logger.Info($"Running bhyve-aot {VmmVersion} as Firecracker v{FirecrackerApi.FirecrackerApiVersion}");
            if (r.GetValue(bootTimer)) logger.Warn("--boot-timer: the boot timer device is not built in bhyve-aot yet; no boot time will be logged");
            if (r.GetValue(seccompFilter) is not null) logger.Warn("--seccomp-filter: not applied; bhyve-aot installs its own filters");

            VmConfig? fromFile = null;
            if (r.GetValue(configFile) is { } file)
            {
                try { fromFile = MachineFileReader.Load(file); }
                catch (ConfigException e) { return Report.Fail(ExitCodes.Usage, e.Message); }
            }
            if (r.GetValue(noApi))
            {
                if (fromFile is null) return Report.Fail(ExitCodes.Usage, "--no-api needs --config-file: without the API the machine comes from the file");
                try { return RunCommand.Run(fromFile, new RunSwitches(Stats: false)); }
                finally { metrics.Flush(periodic: true); metrics.Dispose(); logger.Dispose(); }
            }
            var limits = HttpLimits.Default with { MaxBodyBytes = r.GetValue(payload) };
            return Serve(r.GetValue(apiSock)!, instance, fromFile, new RunSwitches(Stats: false), logger, metrics, limits, a => api = a);
        });
        return Program.Invoke(root, args);
    }

    /// <summary>`bhyve-aot run ... --api-sock PATH`: the machine boots at once and the API serves its post-boot requests.</summary>
    public static int RunWithApi(VmConfig config, RunSwitches switches, string socket)
    {
        var logger = new VmmLogger(config.Name ?? DefaultInstanceId);
        FirecrackerApi? api = null;
        var metrics = new MetricsWriter(json => api?.WriteMetrics(json));
        return Serve(socket, config.Name ?? DefaultInstanceId, config, switches, logger, metrics, HttpLimits.Default, a => api = a);
    }

    /// <summary>
    /// Serves the API and runs the machine on this thread: at once when it is already configured, otherwise when
    /// InstanceStart arrives. A start that fails before the guest runs is answered with its reason and the API waits
    /// for a corrected configuration; once a guest has run, its end is the process's end.
    /// </summary>
    private static int Serve(string socket, string instance, VmConfig? preconfigured, RunSwitches switches, VmmLogger logger, MetricsWriter metrics,
                             HttpLimits limits, Action<FirecrackerApi> created)
    {
        var starts = new System.Collections.Concurrent.BlockingCollection<(VmConfig Config, TaskCompletionSource<string?> Outcome)>();
        var api = new FirecrackerApi(instance, VmmVersion, config =>
        {
            var outcome = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            starts.Add((config, outcome));
            return outcome.Task.GetAwaiter().GetResult();
        }, logger, metrics);
        created(api);
        UnixSocketHttpServer server;
        try { server = new UnixSocketHttpServer(socket, api.Handle, api.Refused, limits); }
        catch (SocketException e)
        {
            return Report.Fail(ExitCodes.Usage, $"--api-sock {socket}: cannot listen there: {e.Message}{(Path.Exists(socket) ? " (the path exists: remove the old socket first)" : "")}");
        }
        using var _ = server;
        using var __ = metrics;
        using var ___ = logger;
        server.Start();
        logger.Info($"API server listening on {socket}");
        // The API's requests run on runtime thread-pool threads, which inherit the filter of whichever thread started
        // them (a vCPU's, the main thread's): no filter kind would let them all serve the socket. Until the API has its
        // own filtered threads, a machine with the API runs without filters, and says so.
        if (RunCommand.SeccompEnabled)
        {
            RunCommand.SeccompEnabled = false;
            logger.Warn("seccomp: off while the API serves (README: SECCOMP)");
        }
        if (preconfigured is not null) return Boot(preconfigured, switches, api, null) ?? ExitCodes.VmmFailure;
        while (true)
        {
            var (config, outcome) = starts.Take();
            if (Boot(config, switches, api, outcome) is { } code) return code;
        }
    }

    /// <summary>Runs one machine; null when it failed before its guest ran (the API answered with why), else the exit status.</summary>
    private static int? Boot(VmConfig config, RunSwitches switches, FirecrackerApi api, TaskCompletionSource<string?>? outcome)
    {
        Machine? machine = null;
        bool running = false;
        try
        {
            if (RunCommand.HostRamProblem(config, switches) is { } tooBig) throw new ConfigException(tooBig);
            SeccompFilter.Configure(RunCommand.SeccompEnabled, ExitCodes.VmmFailure);
            machine = Machine.Create(config);
            machine.Running += () =>
            {
                running = true;
                api.SetRunning(config, new MachineControl(machine));
                outcome?.TrySetResult(null);
            };
            var exit = machine.Run(Console.OpenStandardOutput(), Console.OpenStandardInput(), RunCommand.RunOptions(switches));
            outcome?.TrySetResult(null);
            if (exit.Message is not null) Console.Error.WriteLine($"bhyve-aot: {config.MessagePrefix}{exit.Message}");
            if (switches.Stats) RunCommand.PrintStats(config, machine);
            return exit.Code;
        }
        catch (Exception e)
        {
            var (code, line) = RunCommand.Failure(config, e);
            if (outcome is not null && !running)
            {
                outcome.TrySetResult(line);
                return null;
            }
            return Report.Fail(code, line);
        }
    }
}
