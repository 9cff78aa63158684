using Passerelle.Model.Objects;

namespace Passerelle.Model;

/// <summary>How a rule's path is compared with the request path.</summary>
public enum PathMatch
{
    /// <summary>Any path: a rule without a path, as in the founding document's Ingress.</summary>
    Any,

    /// <summary>Kubernetes <c>pathType: Exact</c>: case-sensitive equality.</summary>
    Exact,

    /// <summary>
    /// Kubernetes <c>pathType: Prefix</c>: element-wise prefix split on '/', trailing slash ignored, so
    /// <c>/foo</c> matches <c>/foo</c>, <c>/foo/</c> and <c>/foo/bar</c> but not <c>/foobar</c>.
    /// </summary>
    Prefix,

    /// <summary>
    /// Application Gateway's path pattern for <c>pathType: ImplementationSpecific</c> ending in <c>*</c>:
    /// a plain string prefix (<c>/foo*</c> matches <c>/foobar</c>), as AGIC configures it.
    /// </summary>
    StringPrefix,
}

/// <summary>
/// One routable rule: requests for <see cref="Host"/> (exact, <c>*.suffix</c> wildcard, or empty for any host)
/// whose path matches <see cref="Path"/> go to the pool <see cref="PoolKey"/>.
/// </summary>
public sealed record RouteRule(
    string Host,
    string Path,
    PathMatch Match,
    string PoolKey,
    RouteSettings Settings,
    ObjectRef Source,
    string Field);

/// <summary>
/// Per-route behaviour a user sets with annotations; null means the gateway-wide default. The backend ones are
/// AGIC's: <see cref="BackendPathPrefix"/> replaces the matched part of the path, <see cref="BackendHostname"/>
/// is the Host the backend sees, <see cref="BackendProtocol"/> is <c>http</c> or <c>https</c> to the backend,
/// <see cref="DrainTimeout"/> is how long connections to a removed endpoint may continue.
/// </summary>
public sealed record RouteSettings(
    TimeSpan? RequestTimeout = null,
    TimeSpan? WebSocketIdleTimeout = null,
    string? BackendPathPrefix = null,
    string? BackendHostname = null,
    string? BackendProtocol = null,
    TimeSpan? DrainTimeout = null)
{
    public static readonly RouteSettings Default = new();
}
