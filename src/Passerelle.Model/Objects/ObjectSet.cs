using k8s.Models;

namespace Passerelle.Model.Objects;

/// <summary>
/// Every Kubernetes object the gateway knows of, whatever its source. All Ingress versions arrive here already
/// normalised to <c>networking.k8s.io/v1</c>. Immutable: a source builds a new set for each change.
/// </summary>
public sealed class ObjectSet
{
    public static readonly ObjectSet Empty = new([]);

    public ObjectSet(IEnumerable<SourcedObject> objects)
    {
        All = objects.ToArray();
        Ingresses = OfType<V1Ingress>();
        IngressClasses = OfType<V1IngressClass>();
        Services = OfType<V1Service>();
        Endpoints = OfType<V1Endpoints>();
        EndpointSlices = OfType<V1EndpointSlice>();
        Deployments = OfType<V1Deployment>();
        Pods = OfType<V1Pod>();
        Secrets = OfType<V1Secret>();
    }

    public IReadOnlyList<SourcedObject> All { get; }
    public IReadOnlyList<SourcedObject> Ingresses { get; }
    public IReadOnlyList<SourcedObject> IngressClasses { get; }
    public IReadOnlyList<SourcedObject> Services { get; }
    public IReadOnlyList<SourcedObject> Endpoints { get; }
    public IReadOnlyList<SourcedObject> EndpointSlices { get; }
    public IReadOnlyList<SourcedObject> Deployments { get; }
    public IReadOnlyList<SourcedObject> Pods { get; }

    /// <summary>Secrets, kept for TLS; the translator does not read them, and nothing may log their data.</summary>
    public IReadOnlyList<SourcedObject> Secrets { get; }

    private SourcedObject[] OfType<T>() => All.Where(o => o.Object is T).ToArray();
}
