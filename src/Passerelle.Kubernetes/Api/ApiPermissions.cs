namespace Passerelle.Kubernetes.Api;

/// <summary>One RBAC rule: verbs on a resource (or subresource, <c>ingresses/status</c>) of an API group.</summary>
internal sealed record ApiPermission(string Group, string Resource, IReadOnlyList<string> Verbs);

/// <summary>
/// What the gateway calls on the Kubernetes API, in RBAC's terms, so that the rules of deploy/gateway can be
/// checked against the code and grant nothing more. The watched kinds are listed and watched (<c>get</c> adds
/// nothing that <c>list</c> does not already allow to read, and lets operators check access as usual); Ingress
/// status is merge-patched; the Lease is read, created and replaced, in the gateway's own namespace only.
/// </summary>
internal static class ApiPermissions
{
    /// <summary>Rules needed in every watched namespace (cluster-wide when all are watched), IngressClasses always cluster-wide.</summary>
    public static IReadOnlyList<ApiPermission> Watching { get; } =
    [
        .. WatchedKinds.All.Select(k => new ApiPermission(k.Group, k.Plural, ["get", "list", "watch"])),
        new("networking.k8s.io", "ingresses/status", ["patch"]),
    ];

    /// <summary>Rules needed in the Lease's namespace, when Ingress status is published.</summary>
    public static IReadOnlyList<ApiPermission> LeaderElection { get; } =
    [
        new("coordination.k8s.io", "leases", ["get", "create", "update"]),
    ];
}
