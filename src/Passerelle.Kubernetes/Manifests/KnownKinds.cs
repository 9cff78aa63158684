using k8s.Models;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>The apiVersion and kind pairs Passerelle reads; every other object in a manifest is ignored.</summary>
internal static class KnownKinds
{
    private static readonly KnownKind IngressV1 = KnownKind.Of<V1Ingress>("networking.k8s.io/v1", "Ingress", namespaced: true);

    // The versions served before Kubernetes 1.22 removed them; many manifests still use them.
    private static readonly KnownKind IngressLegacy =
        KnownKind.Of<V1Ingress>("networking.k8s.io/v1", "Ingress", namespaced: true, LegacyIngress.Normalise, LegacyIngress.Fields);

    // IngressClass has been cluster-scoped since it appeared; v1beta1 has the same shape as v1.
    private static readonly KnownKind IngressClass = KnownKind.Of<V1IngressClass>("networking.k8s.io/v1", "IngressClass", namespaced: false);

    private static readonly Dictionary<(string ApiVersion, string Kind), KnownKind> ByVersionAndKind = new()
    {
        [("v1", "Service")] = KnownKind.Of<V1Service>("v1", "Service", namespaced: true),
        [("v1", "Endpoints")] = KnownKind.Of<V1Endpoints>("v1", "Endpoints", namespaced: true),
        [("v1", "Pod")] = KnownKind.Of<V1Pod>("v1", "Pod", namespaced: true),
        [("discovery.k8s.io/v1", "EndpointSlice")] = KnownKind.Of<V1EndpointSlice>("discovery.k8s.io/v1", "EndpointSlice", namespaced: true),
        [("apps/v1", "Deployment")] = KnownKind.Of<V1Deployment>("apps/v1", "Deployment", namespaced: true),
        [("networking.k8s.io/v1", "IngressClass")] = IngressClass,
        [("networking.k8s.io/v1beta1", "IngressClass")] = IngressClass,
        [("networking.k8s.io/v1", "Ingress")] = IngressV1,
        [("networking.k8s.io/v1beta1", "Ingress")] = IngressLegacy,
        [("extensions/v1beta1", "Ingress")] = IngressLegacy,
    };

    public static bool TryGet(string apiVersion, string kind, out KnownKind known) =>
        ByVersionAndKind.TryGetValue((apiVersion, kind), out known!);

    /// <summary>The apiVersions accepted for <paramref name="kind"/>, matched ignoring case, with its exact spelling.</summary>
    public static (string Kind, IReadOnlyList<string> ApiVersions)? Similar(string kind)
    {
        var matches = ByVersionAndKind.Keys.Where(k => string.Equals(k.Kind, kind, StringComparison.OrdinalIgnoreCase)).ToArray();
        return matches.Length == 0 ? null : (matches[0].Kind, matches.Select(k => k.ApiVersion).ToArray());
    }
}
