using Passerelle.Model.Diagnostics;

namespace Passerelle.Model;

/// <summary>
/// What the gateway serves, validated and free of Kubernetes details: routes in match order and the backend
/// pools they point at. Built by <see cref="Translation.GatewayTranslator"/>, compiled by the data plane into a
/// runtime snapshot. Equal models produce equal routing, so a no-op change can be recognised and skipped.
/// </summary>
public sealed record GatewayModel(
    IReadOnlyList<RouteRule> Routes,
    RouteRule? DefaultRoute,
    IReadOnlyDictionary<string, BackendPool> Pools,
    IReadOnlyList<Diagnostic> Diagnostics)
{
    public static readonly GatewayModel Empty = new([], null, new Dictionary<string, BackendPool>(), []);

    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>True when both models would route every request the same way to the same endpoints.</summary>
    public bool RoutesLike(GatewayModel other) =>
        Routes.SequenceEqual(other.Routes)
        && Equals(DefaultRoute, other.DefaultRoute)
        && Pools.Count == other.Pools.Count
        && Pools.All(p => other.Pools.TryGetValue(p.Key, out var o) && p.Value.Equals(o));
}
