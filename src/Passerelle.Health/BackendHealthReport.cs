using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>
/// What the portal's "Backend health" view shows, per pool and endpoint: state, probe mode used, last result,
/// latency, since when, and what Application Gateway would conclude from the same backend.
/// </summary>
public sealed record BackendHealthReport(DateTimeOffset At, IReadOnlyList<PoolHealthReport> Pools)
{
    public static BackendHealthReport Create(GatewayModel model, HealthMonitor monitor)
    {
        var pools = model.Pools.Values
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(pool =>
            {
                var endpoints = pool.Endpoints.Select(e => EndpointHealthReport.Create(e, e.Ready ? monitor.Find(pool, e) : null)).ToList();
                var anyServing = endpoints.Any(e => e.State is "healthy" or "unknown");
                var appGatewayServes = endpoints.Any(e => e.ApplicationGateway.StartsWith("healthy", StringComparison.Ordinal));
                var appGatewayKnows = endpoints.All(e => !e.ApplicationGateway.StartsWith("not known", StringComparison.Ordinal));
                return new PoolHealthReport(
                    pool.Service.ToString(),
                    pool.ServicePort,
                    pool.Probe.Key,
                    pool.Probe.Mode is { } mode ? ProbeModes.Name(mode) : "gateway default",
                    pool.Problem,
                    anyServing ? "serving" : "502 Bad Gateway: no healthy endpoint",
                    !appGatewayKnows ? "not known in this probe mode" : appGatewayServes ? "would serve" : "would answer 502 Bad Gateway",
                    endpoints);
            })
            .ToList();
        return new BackendHealthReport(DateTimeOffset.UtcNow, pools);
    }
}

public sealed record PoolHealthReport(
    string Service,
    string Port,
    string Probe,
    string ProbeMode,
    string? Problem,
    string Passerelle,
    string ApplicationGateway,
    IReadOnlyList<EndpointHealthReport> Endpoints);

public sealed record EndpointHealthReport(
    string Endpoint,
    string State,
    string? ModeUsed,
    string? LastResult,
    double? LatencyMs,
    DateTimeOffset? Since,
    int ConsecutiveFailures,
    string? PassiveFailure,
    string ApplicationGateway)
{
    internal static EndpointHealthReport Create(BackendEndpoint endpoint, EndpointHealth? health)
    {
        if (!endpoint.Ready)
        {
            return new EndpointHealthReport(endpoint.ToString(), endpoint.Terminating ? "terminating" : "not ready", null, null, null, null, 0, null,
                "not in the pool (not ready)");
        }

        if (health is null)
        {
            return new EndpointHealthReport(endpoint.ToString(), "unknown", null, null, null, null, 0, null, "not probed yet");
        }

        var state = health.State switch
        {
            HealthState.Healthy when health.PassiveFailure is not null => "out (connection failed)",
            HealthState.Healthy => "healthy",
            HealthState.Unhealthy => "unhealthy",
            _ => health.PassiveFailure is not null ? "out (connection failed)" : "unknown",
        };
        var last = health.LastResult;
        return new EndpointHealthReport(
            endpoint.ToString(),
            state,
            last is null ? null : ProbeModes.Name(last.Kind),
            last?.Description,
            last?.Latency.TotalMilliseconds,
            health.Since,
            health.ConsecutiveFailures,
            health.PassiveFailure,
            PredictApplicationGateway(health));
    }

    /// <summary>Application Gateway sends only the plain HTTP probe; its verdict is that probe's result.</summary>
    private static string PredictApplicationGateway(EndpointHealth health)
    {
        if (health.Mode is Model.Health.ProbeMode.Tcp or Model.Health.ProbeMode.WebSocket)
        {
            return "not known: this probe mode sends no plain GET";
        }

        return health.LastHttpResult switch
        {
            null => "not known: not probed yet",
            { Healthy: true } => "healthy",
            var http => $"unhealthy: {http.Description}",
        };
    }
}
