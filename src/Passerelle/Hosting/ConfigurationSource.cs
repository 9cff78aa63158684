using Passerelle.Kubernetes.Api;

namespace Passerelle.Hosting;

/// <summary>Where a gateway reads its Kubernetes objects from: manifest files, or the Kubernetes API.</summary>
internal abstract record ConfigurationSource
{
    /// <summary>Manifest files and folders, watched (<c>passerelle run -f</c>).</summary>
    public sealed record Manifests(IReadOnlyList<string> Paths) : ConfigurationSource;

    /// <summary>The Kubernetes API, listed and watched (<c>passerelle run --kubernetes</c>).</summary>
    public sealed record KubernetesApi(KubernetesApiOptions Options) : ConfigurationSource;
}
