using k8s;
using k8s.Models;

namespace Passerelle.Model.Objects;

/// <summary>A Kubernetes object together with where it was read from (a manifest file, or the API).</summary>
public sealed record SourcedObject(IKubernetesObject<V1ObjectMeta> Object, ObjectOrigin? Origin)
{
    public ObjectRef Ref => new(Object.Kind ?? Object.GetType().Name, Object.Metadata?.NamespaceProperty, Object.Metadata?.Name ?? "");
}
