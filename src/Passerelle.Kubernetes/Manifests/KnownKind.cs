using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// A kind Passerelle reads, in one of the apiVersions it accepts. <see cref="ApiVersion"/> is the version the
/// object is stored as once read; <see cref="Normalise"/>, if any, rewrites an older shape into that version's
/// shape before decoding, and <see cref="OlderFields"/> are the fields of the older shape it moves, by the model
/// type they are written in, which are valid although the model type has no such property.
/// </summary>
internal sealed record KnownKind(
    string ApiVersion,
    string Kind,
    Type ModelType,
    bool Namespaced,
    Func<JsonObject, IKubernetesObject<V1ObjectMeta>> Decode,
    Action<JsonObject, LineMap>? Normalise = null,
    IReadOnlyDictionary<Type, IReadOnlyDictionary<string, Type>>? OlderFields = null)
{
    public static KnownKind Of<T>(
        string apiVersion,
        string kind,
        bool namespaced,
        Action<JsonObject, LineMap>? normalise = null,
        IReadOnlyDictionary<Type, IReadOnlyDictionary<string, Type>>? olderFields = null)
        where T : IKubernetesObject<V1ObjectMeta> =>
        new(apiVersion, kind, typeof(T), namespaced, json => KubernetesJson.Deserialize<T>(json), normalise, olderFields);
}
