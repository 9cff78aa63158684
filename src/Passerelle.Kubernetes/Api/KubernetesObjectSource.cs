using k8s;
using Microsoft.Extensions.Logging;
using Passerelle.Kubernetes.Sources;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Api;

/// <summary>
/// The Kubernetes API as a source of objects: one <see cref="Reflector"/> per watched kind and namespace, all
/// feeding one in-memory store. The store is complete once every reflector has listed; from then on a change
/// reaches the configuration loop as soon as its event arrives, bursts coalesced. While the API is unreachable
/// the store keeps its objects, and the outage is logged once when it starts and once when it ends.
/// </summary>
public sealed partial class KubernetesObjectSource : IObjectSource, IReflectorOwner
{
    /// <summary>
    /// How long the loop waits after a change for the rest of its burst. A rolling update changes an
    /// EndpointSlice and Pods within milliseconds; endpoint changes must still reach routing well under 100 ms.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(5);

    private readonly string _server;
    private readonly ILogger _logger;
    private readonly List<Reflector> _reflectors = [];
    private readonly ChangeSignal _changes = new();
    private readonly object _lock = new();
    private readonly HashSet<Reflector> _failing = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private Task[] _running = [];
    private int _disposed;
    private long _loaded = -1;
    private bool _complete;
    private DateTimeOffset? _outageSince;
    private string? _outageError;

    public KubernetesObjectSource(IKubernetes client, string server, KubernetesApiOptions options, ILogger<KubernetesObjectSource> logger)
    {
        _server = server;
        _logger = logger;
        var namespaces = options.Namespaces.Count == 0 ? [null] : options.Namespaces.Cast<string?>().ToArray();
        foreach (var kind in WatchedKinds.All)
        {
            foreach (var ns in kind.Namespaced ? namespaces : [null])
            {
                _reflectors.Add(new Reflector(kind, new ApiScope(ns), client, options, this, logger));
            }
        }

        // The publish Service may live outside the watched namespaces (the gateway's own): watch it alone there.
        if (options.PublishServiceName is var (serviceNamespace, serviceName) && namespaces[0] is not null && !namespaces.Contains(serviceNamespace))
        {
            _reflectors.Add(new Reflector(WatchedKinds.Service, new ApiScope(serviceNamespace, $"metadata.name={serviceName}"), client, options, this, logger));
        }
    }

    /// <summary>The API server's address, as logs and <c>/readyz</c> show it.</summary>
    public string Server => _server;

    public bool Complete
    {
        get
        {
            lock (_lock)
            {
                return _complete;
            }
        }
    }

    /// <summary>Grows with every change of the objects held; the status writer waits on it too.</summary>
    internal ChangeSignal Changes => _changes;

    internal IReadOnlyList<Reflector> Reflectors => _reflectors;

    public SourceReadiness Readiness
    {
        get
        {
            var kinds = _reflectors.Select(r => r.Status).ToArray();
            string detail;
            lock (_lock)
            {
                detail = !_complete
                    ? "waiting for the first list of " + string.Join(", ", kinds.Where(k => k.LastList is null).Select(k => k.Kind).Distinct())
                        + (_outageError is null ? "" : $" (the Kubernetes API cannot be reached: {_outageError})")
                    : _outageSince is { } since
                        ? $"serving the last known configuration: the Kubernetes API cannot be reached since {since:O} ({_outageError})"
                        : "in sync with the Kubernetes API";
            }

            return new SourceReadiness("kubernetes", Complete, detail, new { server = _server, outageSince = _outageSince, kinds });
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_running.Length == 0)
            {
                _running = _reflectors.Select(r => Task.Run(() => r.RunAsync(_stop.Token), CancellationToken.None)).ToArray();
            }
        }

        return Task.CompletedTask;
    }

    public ObjectSnapshot Load()
    {
        // Read the version first: a change made while copying bumps it, so the next wait returns at once.
        var version = _changes.Version;
        var (objects, diagnostics) = Collect();
        var changed = version != Interlocked.Exchange(ref _loaded, version);
        return new ObjectSnapshot(objects, diagnostics, changed);
    }

    public async Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(Interlocked.Read(ref _loaded), cancellationToken).ConfigureAwait(false);
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every object held now.</summary>
    internal ObjectSet Objects() => Collect().Objects;

    public async ValueTask DisposeAsync()
    {
        // The host's container may dispose this twice (it is registered as itself and as IObjectSource).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
    }

    void IReflectorOwner.Changed() => _changes.Notify();

    void IReflectorOwner.Listed(Reflector reflector)
    {
        var becameComplete = false;
        TimeSpan? outage = null;
        lock (_lock)
        {
            if (_failing.Remove(reflector) && _failing.Count == 0 && _outageSince is { } since)
            {
                outage = DateTimeOffset.UtcNow - since;
                _outageSince = null;
                _outageError = null;
            }

            if (!_complete && _reflectors.All(r => r.Synced))
            {
                _complete = becameComplete = true;
            }
        }

        if (outage is { } duration)
        {
            Log.Recovered(_logger, _server, duration.TotalSeconds);
        }

        if (becameComplete)
        {
            Log.Synced(_logger, _server, _reflectors.Sum(r => r.Status.Objects), System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
            _changes.Notify();
        }
    }

    void IReflectorOwner.Failing(Reflector reflector, Exception error)
    {
        var started = false;
        lock (_lock)
        {
            _failing.Add(reflector);
            _outageError = Reflector.Describe(error);
            if (_outageSince is null)
            {
                _outageSince = DateTimeOffset.UtcNow;
                started = true;
            }
        }

        // Once per outage, however many kinds fail and however often they retry.
        if (started)
        {
            Log.Unreachable(_logger, _server, $"{reflector.Kind.Kind}: {Reflector.Describe(error)}");
        }
    }

    private (ObjectSet Objects, IReadOnlyList<Diagnostic> Diagnostics) Collect()
    {
        var objects = new List<SourcedObject>();
        var diagnostics = new List<Diagnostic>();
        foreach (var reflector in _reflectors)
        {
            reflector.CopyTo(objects, diagnostics);
        }

        return (new ObjectSet(objects), diagnostics);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, EventName = "KubernetesSynced", Level = LogLevel.Information,
            Message = "Listed every watched kind from the Kubernetes API at {Server}: {Objects} object(s) in {ElapsedMs:F0} ms; watching for changes")]
        public static partial void Synced(ILogger logger, string server, int objects, double elapsedMs);

        [LoggerMessage(EventId = 3002, EventName = "KubernetesUnreachable", Level = LogLevel.Warning,
            Message = "The Kubernetes API at {Server} cannot be reached ({Error}); serving the last known configuration and retrying with backoff")]
        public static partial void Unreachable(ILogger logger, string server, string error);

        [LoggerMessage(EventId = 3003, EventName = "KubernetesRecovered", Level = LogLevel.Information,
            Message = "The Kubernetes API at {Server} is reachable again after {OutageSeconds:F1} s; every kind was listed again")]
        public static partial void Recovered(ILogger logger, string server, double outageSeconds);
    }
}
