using Passerelle.Model;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// Decides, for each published model, which endpoints left service: present and ready in the previous model,
/// and in no pool of the new one (removed, not ready, or terminating). Their open WebSockets keep going for the
/// drain timeout of the routes that led to them, then are closed politely; an endpoint that comes back before
/// that (a flapping readiness probe, a rollback) is not closed at all.
/// </summary>
internal sealed class EndpointDrainer(GatewayOptions options, Func<string, TimeSpan, CancellationToken, Task> closeAfter)
{
    private readonly Dictionary<string, CancellationTokenSource> _draining = new(StringComparer.Ordinal);

    /// <summary>Endpoints being drained now, for the admin view and tests.</summary>
    public IReadOnlyCollection<string> Draining
    {
        get
        {
            lock (_draining)
            {
                return _draining.Keys.ToArray();
            }
        }
    }

    public void Apply(GatewayModel previous, GatewayModel next)
    {
        var serving = ServingEndpoints(next);
        var before = DrainTimeouts(previous);
        lock (_draining)
        {
            foreach (var endpoint in _draining.Keys.Where(serving.Contains).ToList())
            {
                _draining[endpoint].Cancel();
                _draining[endpoint].Dispose();
                _draining.Remove(endpoint);
            }

            foreach (var (endpoint, timeout) in before)
            {
                if (serving.Contains(endpoint) || _draining.ContainsKey(endpoint))
                {
                    continue;
                }

                var cancellation = new CancellationTokenSource();
                _draining[endpoint] = cancellation;
                _ = DrainAsync(endpoint, timeout, cancellation);
            }
        }
    }

    private async Task DrainAsync(string endpoint, TimeSpan timeout, CancellationTokenSource cancellation)
    {
        try
        {
            await closeAfter(endpoint, timeout, cancellation.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_draining)
            {
                if (_draining.TryGetValue(endpoint, out var current) && current == cancellation)
                {
                    _draining.Remove(endpoint);
                    cancellation.Dispose();
                }
            }
        }
    }

    private static HashSet<string> ServingEndpoints(GatewayModel model) =>
        model.Pools.Values.SelectMany(p => p.ReadyEndpoints).Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal);

    /// <summary>For each serving endpoint, the longest drain timeout among the routes that lead to it.</summary>
    private Dictionary<string, TimeSpan> DrainTimeouts(GatewayModel model)
    {
        var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var route in model.Routes.Append(model.DefaultRoute).OfType<RouteRule>())
        {
            if (!model.Pools.TryGetValue(route.PoolKey, out var pool))
            {
                continue;
            }

            var timeout = route.Settings.DrainTimeout ?? options.DrainTimeout;
            foreach (var endpoint in pool.ReadyEndpoints.Select(e => e.ToString()))
            {
                timeouts[endpoint] = timeouts.TryGetValue(endpoint, out var other) && other > timeout ? other : timeout;
            }
        }

        return timeouts;
    }
}
