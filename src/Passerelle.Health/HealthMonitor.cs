using Microsoft.Extensions.Logging;
using Passerelle.Health.Probes;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>
/// Owns one prober per (endpoint, probe) of the current model. <see cref="Reconcile"/> applies a new model as a
/// delta: probers of endpoints that stay keep running with their state; new ones start with an immediate probe;
/// gone ones stop. Probes are spread in time (jitter), bounded in number, and every loop ends on dispose.
/// </summary>
public sealed partial class HealthMonitor : IAsyncDisposable
{
    private readonly HealthOptions _options;
    private readonly ILogger _logger;
    private readonly ProbeRunner _runner = new();
    private readonly SemaphoreSlim _concurrency;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _lock = new();
    private readonly Dictionary<string, Prober> _probers = new(StringComparer.Ordinal);

    public HealthMonitor(HealthOptions options, ILogger<HealthMonitor> logger)
    {
        _options = options;
        _logger = logger;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentProbes);
    }

    /// <summary>The health of an endpoint of a pool, created (not yet probed) when new.</summary>
    public EndpointHealth HealthOf(BackendPool pool, BackendEndpoint endpoint)
    {
        var mode = pool.Probe.Mode ?? _options.DefaultMode;
        var key = Key(pool, endpoint, mode);
        lock (_lock)
        {
            if (!_probers.TryGetValue(key, out var prober))
            {
                prober = new Prober(new EndpointHealth(endpoint, pool.Probe, mode, pool.Service.ToString()));
                _probers[key] = prober;
            }

            return prober.Health;
        }
    }

    /// <summary>The health of an endpoint of a pool if it is being probed.</summary>
    public EndpointHealth? Find(BackendPool pool, BackendEndpoint endpoint)
    {
        lock (_lock)
        {
            return _probers.GetValueOrDefault(Key(pool, endpoint, pool.Probe.Mode ?? _options.DefaultMode))?.Health;
        }
    }

    /// <summary>Probes every ready endpoint of <paramref name="model"/>, and nothing else.</summary>
    public void Reconcile(GatewayModel model)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pool in model.Pools.Values)
        {
            foreach (var endpoint in pool.ReadyEndpoints)
            {
                // Readiness from the API decides membership: a not-ready pod is never probed back into service.
                HealthOf(pool, endpoint);
                wanted.Add(Key(pool, endpoint, pool.Probe.Mode ?? _options.DefaultMode));
            }
        }

        lock (_lock)
        {
            foreach (var (key, prober) in _probers.ToList())
            {
                if (!wanted.Contains(key))
                {
                    prober.Stop();
                    _probers.Remove(key);
                }
                else if (prober.Loop is null)
                {
                    var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    prober.Start(cancellation, RunAsync(prober.Health, cancellation.Token));
                }
            }
        }
    }

    /// <summary>Every endpoint being probed, for the admin endpoints and the 502 page.</summary>
    public IReadOnlyList<EndpointHealth> All
    {
        get
        {
            lock (_lock)
            {
                return _probers.Values.Select(p => p.Health).ToArray();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Task[] loops;
        lock (_lock)
        {
            loops = _probers.Values.Select(p => p.Loop).OfType<Task>().ToArray();
        }

        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _runner.Dispose();
        _stopping.Dispose();
    }

    private static string Key(BackendPool pool, BackendEndpoint endpoint, ProbeMode mode) =>
        $"{pool.Service}|{endpoint}|{ProbeModes.Name(mode)}|{pool.Probe.Key}";

    private async Task RunAsync(EndpointHealth health, CancellationToken cancellationToken)
    {
        // The first probe goes out at once, not one interval later, spread over 100 ms so a large configuration
        // does not probe in one burst.
        var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 100));
        var recheck = _options.PassiveRecheckDelay;
        try
        {
            while (true)
            {
                if (await WaitAsync(health, delay, cancellationToken))
                {
                    await Task.Delay(_options.PassiveRecheckDelay, cancellationToken);
                }

                (ProbeResult Result, ProbeResult? Http) outcome;
                await _concurrency.WaitAsync(cancellationToken);
                try
                {
                    outcome = await _runner.RunAsync(health, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    outcome = (new ProbeResult(false, health.Mode, $"probe failed: {e.Message}", TimeSpan.Zero, DateTimeOffset.UtcNow), null);
                }
                finally
                {
                    _concurrency.Release();
                }

                var transition = health.Record(outcome.Result, outcome.Http);
                Report(health, outcome.Result, outcome.Http, transition);

                if (health.PassiveFailure is not null)
                {
                    // Still failing after a passive signal: look again soon, backing off up to the interval.
                    delay = recheck < health.Probe.Interval ? recheck : health.Probe.Interval;
                    recheck *= 2;
                }
                else
                {
                    recheck = _options.PassiveRecheckDelay;
                    delay = health.Probe.Interval * (0.9 + Random.Shared.NextDouble() * 0.2);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <returns>True when woken by a passive failure rather than by the timer.</returns>
    private static async Task<bool> WaitAsync(EndpointHealth health, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var wake = health.WakeRequested;
        var elapsed = Task.Delay(delay, timer.Token);
        var first = await Task.WhenAny(elapsed, wake);
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        if (first != wake)
        {
            return false;
        }

        health.ResetWake();
        return true;
    }

    private void Report(EndpointHealth health, ProbeResult result, ProbeResult? http, HealthState? transition)
    {
        if (transition == HealthState.Healthy)
        {
            Log.Healthy(_logger, health.Endpoint.ToString(), health.Service, result.Description);
        }
        else if (transition == HealthState.Unhealthy)
        {
            Log.Unhealthy(_logger, health.Endpoint.ToString(), health.Service, health.ConsecutiveFailures, result.Description);
        }

        if (result is { Healthy: true, Kind: ProbeMode.WebSocket } && http is { Healthy: false } && !health.RescueReported)
        {
            health.RescueReported = true;
            Log.RescuedByWebSocketProbe(_logger, health.Endpoint.ToString(), health.Service, http.Description);
        }
    }

    private sealed class Prober(EndpointHealth health)
    {
        private CancellationTokenSource? _cancellation;

        public EndpointHealth Health { get; } = health;

        public Task? Loop { get; private set; }

        public void Start(CancellationTokenSource cancellation, Task loop)
        {
            _cancellation = cancellation;
            Loop = loop;
        }

        public void Stop()
        {
            _cancellation?.Cancel();
            _cancellation?.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, EventName = "EndpointHealthy", Level = LogLevel.Information,
            Message = "{Endpoint} of {Service} is healthy: {Result}")]
        public static partial void Healthy(ILogger logger, string endpoint, string service, string result);

        [LoggerMessage(EventId = 2002, EventName = "EndpointUnhealthy", Level = LogLevel.Warning,
            Message = "{Endpoint} of {Service} is unhealthy after {Failures} failed probe(s): {Result}")]
        public static partial void Unhealthy(ILogger logger, string endpoint, string service, int failures, string result);

        [LoggerMessage(EventId = 2003, EventName = "WebSocketProbeRescue", Level = LogLevel.Warning,
            Message = "{Endpoint} of {Service} answers {HttpResult} but accepts a WebSocket handshake, so Passerelle keeps it in " +
                "service. Application Gateway would mark it unhealthy and answer 502 Bad Gateway. Fix: give the pod a " +
                "readinessProbe httpGet on a path that answers 200, such as /health, or set the Ingress annotation " +
                "appgw.ingress.kubernetes.io/health-probe-path")]
        public static partial void RescuedByWebSocketProbe(ILogger logger, string endpoint, string service, string httpResult);
    }
}
