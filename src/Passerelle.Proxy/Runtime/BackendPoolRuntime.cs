using Passerelle.Health;
using Passerelle.Model;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// The ready endpoints of one pool with round-robin selection, as Application Gateway balances a backend pool.
/// Only available endpoints (not unhealthy, no connection failure since their last good probe) are picked;
/// when none is, there is no "panic mode" sending traffic to endpoints known to be dead.
/// </summary>
internal sealed class BackendPoolRuntime
{
    private int _next = -1;
    private string? _serviceName;

    public BackendPoolRuntime(BackendPool model, HealthMonitor health, BackendPoolRuntime? previous)
    {
        Model = model;
        Destinations = model.ReadyEndpoints.Select(e => new Destination(e, health.HealthOf(model, e))).ToArray();
        if (previous is not null)
        {
            _next = previous._next;
        }
    }

    public BackendPool Model { get; }

    /// <summary>The pool's Service as logs and the tunnel registry name it, written once per configuration, not per request.</summary>
    public string ServiceName => _serviceName ??= Model.Service.ToString();

    public Destination[] Destinations { get; }

    /// <summary>The next available endpoint not in <paramref name="tried"/>; null when there is none.</summary>
    public Destination? Pick(List<Destination>? tried)
    {
        var all = Destinations;
        if (all.Length == 0)
        {
            return null;
        }

        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)all.Length);
        for (var i = 0; i < all.Length; i++)
        {
            var candidate = all[(start + i) % all.Length];
            if (candidate.Health.IsAvailable && tried?.Contains(candidate) != true)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Why no endpoint can take a request, naming each with its last probe or connection result.</summary>
    public string DescribeUnavailable() =>
        Destinations.Length == 0
            ? Model.Problem ?? "no ready endpoint"
            : "no healthy endpoint: " + string.Join("; ", Destinations.Select(d => d.Health.Describe()));
}
