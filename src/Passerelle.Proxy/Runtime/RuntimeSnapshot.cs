using Passerelle.Health;
using Passerelle.Model;
using Passerelle.Proxy.Routing;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// Everything a request needs, immutable once built and read without locks. A new model produces a new
/// snapshot that replaces this one atomically; requests already running keep the snapshot they started with,
/// and open connections hold no reference a swap could break.
/// </summary>
internal sealed class RuntimeSnapshot
{
    private readonly RouteTable<RuntimeRoute> _table;

    private RuntimeSnapshot(GatewayModel model, GatewayOptions options, HealthMonitor health, RuntimeSnapshot? previous, long generation)
    {
        Model = model;
        Generation = generation;

        // Pools that did not change are carried over whole; endpoints keep their health in any case, since the
        // health monitor owns it.
        Pools = model.Pools.ToDictionary(
            p => p.Key,
            p => previous is not null && previous.Pools.TryGetValue(p.Key, out var old)
                ? old.Model.Equals(p.Value) ? old : new BackendPoolRuntime(p.Value, health, old)
                : new BackendPoolRuntime(p.Value, health, null),
            StringComparer.Ordinal);

        var routes = model.Routes.Select(r => (r, new RuntimeRoute(r, Pools[r.PoolKey], options)));
        var fallback = model.DefaultRoute is { } d ? new RuntimeRoute(d, Pools[d.PoolKey], options) : null;
        _table = new RouteTable<RuntimeRoute>(routes, fallback);
    }

    public GatewayModel Model { get; }

    /// <summary>Increases by one with every applied change; shown on the admin endpoints.</summary>
    public long Generation { get; }

    public IReadOnlyDictionary<string, BackendPoolRuntime> Pools { get; }

    public static RuntimeSnapshot Empty(HealthMonitor health) => new(GatewayModel.Empty, new GatewayOptions(), health, null, 0);

    public static RuntimeSnapshot Create(GatewayModel model, GatewayOptions options, HealthMonitor health, RuntimeSnapshot? previous) =>
        new(model, options, health, previous, (previous?.Generation ?? 0) + 1);

    public RuntimeRoute? Match(string host, string path) => _table.Match(host, path);
}
