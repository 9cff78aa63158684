namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>A resource the fake API server serves, with the names the real one uses in URLs, lists and RBAC.</summary>
internal sealed record FakeResource(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public static readonly IReadOnlyList<FakeResource> All =
    [
        new("networking.k8s.io", "v1", "ingresses", "Ingress", true),
        new("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false),
        new("", "v1", "services", "Service", true),
        new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true),
        new("", "v1", "pods", "Pod", true),
        new("", "v1", "secrets", "Secret", true),
        new("coordination.k8s.io", "v1", "leases", "Lease", true),
    ];

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static FakeResource OfKind(string kind) => All.Single(r => r.Kind == kind);
}

/// <summary>One request the fake API server received, in RBAC's terms: verb, API group, resource, subresource.</summary>
internal sealed record FakeRequest(string Verb, string Group, string Resource, string? Subresource, string? Namespace, string? Token);
