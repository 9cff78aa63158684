using Passerelle.Model;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// The ready endpoints of one pool with round-robin selection, as Application Gateway balances a backend pool.
/// Endpoints that recently refused a connection are skipped while others remain.
/// </summary>
internal sealed class BackendPoolRuntime
{
    private int _next = -1;

    public BackendPoolRuntime(BackendPool model, BackendPoolRuntime? previous)
    {
        Model = model;
        var old = previous?.Destinations.ToDictionary(d => d.Endpoint.ToString(), StringComparer.Ordinal);
        Destinations = model.ReadyEndpoints.Select(e =>
        {
            var destination = new Destination(e);
            if (old is not null && old.TryGetValue(destination.ToString(), out var before))
            {
                destination.CopyHealthFrom(before);
            }

            return destination;
        }).ToArray();
        if (previous is not null)
        {
            _next = previous._next;
        }
    }

    public BackendPool Model { get; }

    public Destination[] Destinations { get; }

    /// <summary>
    /// The next endpoint not in <paramref name="tried"/>, preferring endpoints not being avoided; null when all
    /// were tried.
    /// </summary>
    public Destination? Pick(List<Destination> tried, long nowMs)
    {
        var all = Destinations;
        if (all.Length == 0)
        {
            return null;
        }

        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)all.Length);
        Destination? fallback = null;
        for (var i = 0; i < all.Length; i++)
        {
            var candidate = all[(start + i) % all.Length];
            if (tried.Contains(candidate))
            {
                continue;
            }

            if (!candidate.IsAvoided(nowMs))
            {
                return candidate;
            }

            fallback ??= candidate;
        }

        return fallback;
    }
}
