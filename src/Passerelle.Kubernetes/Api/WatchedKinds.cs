using k8s;
using k8s.Models;

namespace Passerelle.Kubernetes.Api;

/// <summary>
/// The kinds the gateway lists and watches: what the translator reads (Ingress, IngressClass, Service,
/// EndpointSlice, and Pod for probe derivation) and Secret for TLS. Every watch asks for bookmarks, so that a
/// restarted watch resumes from a recent resourceVersion instead of relisting. <see cref="ApiPermissions"/> is
/// derived from this table; the RBAC rules of deploy/gateway are tested against it.
/// </summary>
internal static class WatchedKinds
{
    public static readonly WatchedKind Ingress = WatchedKind.Of<V1Ingress, V1IngressList>(
        "Ingress", "networking.k8s.io", "v1", "ingresses", namespaced: true,
        (c, s, next, limit, ct) => s.Namespace is null
            ? c.NetworkingV1.ListIngressForAllNamespacesAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct)
            : c.NetworkingV1.ListNamespacedIngressAsync(s.Namespace, continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => s.Namespace is null
            ? c.NetworkingV1.WatchListIngressForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : c.NetworkingV1.WatchListNamespacedIngressAsync(s.Namespace, allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static readonly WatchedKind IngressClass = WatchedKind.Of<V1IngressClass, V1IngressClassList>(
        "IngressClass", "networking.k8s.io", "v1", "ingressclasses", namespaced: false,
        (c, s, next, limit, ct) => c.NetworkingV1.ListIngressClassAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => c.NetworkingV1.WatchListIngressClassAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static readonly WatchedKind Service = WatchedKind.Of<V1Service, V1ServiceList>(
        "Service", "", "v1", "services", namespaced: true,
        (c, s, next, limit, ct) => s.Namespace is null
            ? c.CoreV1.ListServiceForAllNamespacesAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct)
            : c.CoreV1.ListNamespacedServiceAsync(s.Namespace, continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => s.Namespace is null
            ? c.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : c.CoreV1.WatchListNamespacedServiceAsync(s.Namespace, allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static readonly WatchedKind EndpointSlice = WatchedKind.Of<V1EndpointSlice, V1EndpointSliceList>(
        "EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", namespaced: true,
        (c, s, next, limit, ct) => s.Namespace is null
            ? c.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct)
            : c.DiscoveryV1.ListNamespacedEndpointSliceAsync(s.Namespace, continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => s.Namespace is null
            ? c.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : c.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(s.Namespace, allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static readonly WatchedKind Pod = WatchedKind.Of<V1Pod, V1PodList>(
        "Pod", "", "v1", "pods", namespaced: true,
        (c, s, next, limit, ct) => s.Namespace is null
            ? c.CoreV1.ListPodForAllNamespacesAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct)
            : c.CoreV1.ListNamespacedPodAsync(s.Namespace, continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => s.Namespace is null
            ? c.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : c.CoreV1.WatchListNamespacedPodAsync(s.Namespace, allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
        TrimPod);

    public static readonly WatchedKind Secret = WatchedKind.Of<V1Secret, V1SecretList>(
        "Secret", "", "v1", "secrets", namespaced: true,
        (c, s, next, limit, ct) => s.Namespace is null
            ? c.CoreV1.ListSecretForAllNamespacesAsync(continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct)
            : c.CoreV1.ListNamespacedSecretAsync(s.Namespace, continueParameter: next, fieldSelector: s.FieldSelector, limit: limit, cancellationToken: ct),
        (c, s, rv, timeout, onError, ct) => s.Namespace is null
            ? c.CoreV1.WatchListSecretForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : c.CoreV1.WatchListNamespacedSecretAsync(s.Namespace, allowWatchBookmarks: true, fieldSelector: s.FieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
        TrimSecret);

    public static readonly IReadOnlyList<WatchedKind> All = [Ingress, IngressClass, Service, EndpointSlice, Pod, Secret];

    /// <summary>
    /// Keeps the data of the Secrets that can hold a certificate (type <c>kubernetes.io/tls</c>, or any with a
    /// <c>tls.crt</c> key, as ingress-nginx accepts) and only the name of the others: a cluster's Secrets include
    /// Helm's release records and service account tokens, which the gateway has no business holding.
    /// </summary>
    private static void TrimSecret(V1Secret secret)
    {
        if (secret.Type != "kubernetes.io/tls" && secret.Data?.ContainsKey("tls.crt") != true)
        {
            secret.Data = null;
            secret.StringData = null;
        }
    }

    /// <summary>
    /// Keeps of a Pod what probe derivation reads (labels, containers' ports and probes): a cluster has many
    /// Pods and their status changes all the time, which would otherwise cost memory and translations.
    /// </summary>
    private static void TrimPod(V1Pod pod)
    {
        pod.Status = null;
        if (pod.Spec is not { } spec)
        {
            return;
        }

        spec.Volumes = null;
        spec.InitContainers = null;
        spec.EphemeralContainers = null;
        spec.Affinity = null;
        spec.Tolerations = null;
        spec.NodeName = null;
        foreach (var container in spec.Containers ?? [])
        {
            container.Env = null;
            container.EnvFrom = null;
            container.VolumeMounts = null;
            container.Resources = null;
            container.Command = null;
            container.Args = null;
            container.Image = null;
        }
    }
}
