using Passerelle.Model.Objects;

namespace Passerelle.Model;

/// <summary>
/// The endpoints behind one Service port, as an Ingress backend names it. <see cref="Problem"/> says why the
/// pool cannot serve (Service or port missing, no ready endpoint) so the gateway's 502 can say it too.
/// </summary>
public sealed record BackendPool(
    string Key,
    ObjectRef Service,
    string ServicePort,
    IReadOnlyList<BackendEndpoint> Endpoints,
    string? Problem)
{
    public IEnumerable<BackendEndpoint> ReadyEndpoints => Endpoints.Where(e => e.Ready);

    public static string KeyFor(string ns, string service, string port) => $"{ns}/{service}:{port}";

    public bool Equals(BackendPool? other) =>
        other is not null
        && Key == other.Key
        && Service == other.Service
        && ServicePort == other.ServicePort
        && Problem == other.Problem
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
