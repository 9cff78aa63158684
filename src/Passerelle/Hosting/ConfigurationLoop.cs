using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Passerelle.Kubernetes.Sources;
using Passerelle.Model;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Translation;
using Passerelle.Proxy.Runtime;

namespace Passerelle.Hosting;

/// <summary>
/// The one writer of the gateway's configuration: source (manifest files or the Kubernetes API) -> objects ->
/// model -> published snapshot, the same for both sources. Nothing is published before the source holds a
/// complete view. Diagnostics are logged once, when they first appear, and again only after they were fixed
/// and came back. A change that would route every request the same way publishes nothing.
/// </summary>
internal sealed partial class ConfigurationLoop : BackgroundService
{
    private readonly IObjectSource _source;
    private readonly IngressClassPolicy _classes;
    private readonly SnapshotHolder _snapshots;
    private readonly ILogger _logger;
    private HashSet<string> _reported = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<Diagnostic> _diagnostics = [];

    public ConfigurationLoop(IObjectSource source, IngressClassPolicy classes, SnapshotHolder snapshots, ILogger<ConfigurationLoop> logger)
    {
        _source = source;
        _classes = classes;
        _snapshots = snapshots;
        _logger = logger;
    }

    public IObjectSource Source => _source;

    /// <summary>Every diagnostic about the current files and objects, for the admin endpoints.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics
    {
        get => _diagnostics;
        private set => _diagnostics = value;
    }

    /// <summary>
    /// Loads, translates and publishes once. Returns the model so that start-up can decide to fail. Does nothing
    /// until the source is complete; the first complete view is always published, even an empty one, so that
    /// a cluster without Ingresses is served (404) and ready.
    /// </summary>
    public GatewayModel ApplyOnce(bool force = false)
    {
        if (!_source.Complete)
        {
            return _snapshots.Model;
        }

        var started = Stopwatch.GetTimestamp();
        var snapshot = _source.Load();
        force |= !_snapshots.HasConfiguration;
        if (!snapshot.Changed && !force)
        {
            return _snapshots.Model;
        }

        var model = GatewayTranslator.Translate(snapshot.Objects, _classes);
        Report(snapshot.Diagnostics.Concat(model.Diagnostics));
        if (force || !model.RoutesLike(_snapshots.Model))
        {
            var generation = _snapshots.Publish(model);
            Log.Applied(_logger, generation, model.Routes.Count + (model.DefaultRoute is null ? 0 : 1), model.Pools.Count,
                model.Pools.Values.Sum(p => p.ReadyEndpoints.Count()), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        // Otherwise only diagnostics or unused objects changed: the snapshot stays, untouched.
        Diagnostics = snapshot.Diagnostics.Concat(model.Diagnostics).ToArray();
        return model;
    }

    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _source.StartAsync(stoppingToken);

        // Changes between the initial load and the watcher's start would otherwise wait for the next change.
        ApplyOnce();
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _source.WaitForChangeAsync(stoppingToken);
                ApplyOnce();
                if (failing)
                {
                    Log.ReloadRecovered(_logger);
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The loop must outlive any surprise: the last good snapshot keeps serving. A failure that lasts (out of
                // file descriptors, say) is logged once and retried every second, not as fast as it fails.
                if (!failing)
                {
                    Log.ReloadFailed(_logger, e);
                    failing = true;
                }

                try
                {
                    await Task.Delay(RetryAfterFailure, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Report(IEnumerable<Diagnostic> diagnostics)
    {
        var current = new HashSet<string>(StringComparer.Ordinal);
        foreach (var diagnostic in diagnostics)
        {
            var text = diagnostic.ToString();
            if (!current.Add(text) || _reported.Contains(text))
            {
                continue;
            }

            switch (diagnostic.Severity)
            {
                case DiagnosticSeverity.Error:
                    Log.DiagnosticError(_logger, text);
                    break;
                case DiagnosticSeverity.Warning:
                    Log.DiagnosticWarning(_logger, text);
                    break;
                default:
                    Log.DiagnosticInfo(_logger, text);
                    break;
            }
        }

        foreach (var fixedOne in _reported.Where(r => !current.Contains(r)))
        {
            Log.DiagnosticResolved(_logger, fixedOne);
        }

        _reported = current;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, EventName = "ConfigurationApplied", Level = LogLevel.Information,
            Message = "Applied configuration generation {Generation}: {Routes} route(s), {Pools} backend pool(s), {Endpoints} ready endpoint(s) in {ElapsedMs:F1} ms")]
        public static partial void Applied(ILogger logger, long generation, int routes, int pools, int endpoints, double elapsedMs);

        [LoggerMessage(EventId = 101, EventName = "ConfigurationError", Level = LogLevel.Error, Message = "{Diagnostic}")]
        public static partial void DiagnosticError(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 102, EventName = "ConfigurationWarning", Level = LogLevel.Warning, Message = "{Diagnostic}")]
        public static partial void DiagnosticWarning(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 103, EventName = "ConfigurationNote", Level = LogLevel.Information, Message = "{Diagnostic}")]
        public static partial void DiagnosticInfo(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 104, EventName = "ConfigurationDiagnosticResolved", Level = LogLevel.Information, Message = "Resolved: {Diagnostic}")]
        public static partial void DiagnosticResolved(ILogger logger, string diagnostic);

        [LoggerMessage(EventId = 105, EventName = "ConfigurationReloadFailed", Level = LogLevel.Error,
            Message = "Reloading the configuration failed; the last good configuration keeps serving, and reloading is retried every second")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 106, EventName = "ConfigurationReloadRecovered", Level = LogLevel.Information,
            Message = "Reloading the configuration works again")]
        public static partial void ReloadRecovered(ILogger logger);
    }
}
