using Passerelle.Model.Health;
using Passerelle.Model.Objects;

namespace Passerelle.Model;

/// <summary>
/// The endpoints behind one Service port, as an Ingress backend names it, probed one way: two routes to the
/// same Service port whose probes differ (say, different Ingress paths) are two pools, each endpoint probed
/// once per probe. (AGIC names one probe per Service port and Ingress, so there the last path written wins.)
/// <see cref="Problem"/> says why the pool cannot serve (Service or port missing, no ready endpoint) so the
/// gateway's 502 can say it too.
/// </summary>
public sealed record BackendPool(
    string Key,
    ObjectRef Service,
    string ServicePort,
    IReadOnlyList<BackendEndpoint> Endpoints,
    string? Problem,
    ProbeSpec Probe)
{
    public IEnumerable<BackendEndpoint> ReadyEndpoints => Endpoints.Where(e => e.Ready);

    public static string KeyFor(string ns, string service, string port, ProbeSpec probe) => $"{ns}/{service}:{port} probe {probe.Key}";

    public bool Equals(BackendPool? other) =>
        other is not null
        && Key == other.Key
        && Service == other.Service
        && ServicePort == other.ServicePort
        && Problem == other.Problem
        && Probe.Equals(other.Probe)
        && Endpoints.SequenceEqual(other.Endpoints);

    public override int GetHashCode() => HashCode.Combine(Key, Endpoints.Count, Problem);
}

/// <summary>
/// One address of a pod (or of a manually listed endpoint). Not-ready endpoints are kept in the model so that
/// users can see them, but never receive traffic.
/// </summary>
public sealed record BackendEndpoint(string Address, int Port, bool Ready, bool Terminating = false, string? TargetName = null)
{
    public override string ToString() => Address.Contains(':') ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
