using System.Net;
using k8s.Models;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Api.Status;

/// <summary>
/// The addresses written to <c>status.loadBalancer.ingress</c>: those given with <c>--publish-address</c>, or
/// the LoadBalancer addresses of the <c>--publish-service</c> Service (its external IPs while the cloud has
/// not assigned one), as ingress-nginx and Contour do.
/// </summary>
internal static class PublishedAddresses
{
    /// <summary>The addresses, sorted; null while the publish Service is missing or has no address yet.</summary>
    public static IReadOnlyList<V1IngressLoadBalancerIngress>? Resolve(KubernetesApiOptions options, ObjectSet objects)
    {
        if (options.PublishServiceName is not var (ns, name))
        {
            return Sorted(options.PublishAddresses.Select(FromText));
        }

        var service = objects.Services
            .Select(s => (V1Service)s.Object)
            .FirstOrDefault(s => s.Metadata?.NamespaceProperty == ns && s.Metadata?.Name == name);
        var balanced = service?.Status?.LoadBalancer?.Ingress?
            .Where(i => !string.IsNullOrEmpty(i.Ip) || !string.IsNullOrEmpty(i.Hostname))
            .Select(i => new V1IngressLoadBalancerIngress { Ip = NullIfEmpty(i.Ip), Hostname = NullIfEmpty(i.Hostname) })
            .ToArray();
        if (balanced is { Length: > 0 })
        {
            return Sorted(balanced);
        }

        var external = service?.Spec?.ExternalIPs;
        return external is { Count: > 0 } ? Sorted(external.Select(FromText)) : null;
    }

    /// <summary>The same addresses in the same order: what "only update when different" compares.</summary>
    public static bool Same(IEnumerable<V1IngressLoadBalancerIngress>? a, IEnumerable<V1IngressLoadBalancerIngress>? b) =>
        Keys(a).SequenceEqual(Keys(b));

    public static string Describe(IEnumerable<V1IngressLoadBalancerIngress> addresses) =>
        string.Join(", ", Keys(addresses).Select(k => k.Ip ?? k.Hostname));

    private static IEnumerable<(string? Ip, string? Hostname)> Keys(IEnumerable<V1IngressLoadBalancerIngress>? addresses) =>
        (addresses ?? []).Select(a => (NullIfEmpty(a.Ip), NullIfEmpty(a.Hostname))).Order();

    private static V1IngressLoadBalancerIngress FromText(string address) =>
        IPAddress.TryParse(address, out _) ? new V1IngressLoadBalancerIngress { Ip = address } : new V1IngressLoadBalancerIngress { Hostname = address };

    private static IReadOnlyList<V1IngressLoadBalancerIngress> Sorted(IEnumerable<V1IngressLoadBalancerIngress> addresses) =>
        addresses.OrderBy(a => a.Ip, StringComparer.Ordinal).ThenBy(a => a.Hostname, StringComparer.Ordinal).ToArray();

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
