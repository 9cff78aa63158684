namespace Passerelle.Kubernetes.Sources;

/// <summary>
/// Where the gateway's Kubernetes objects come from: manifest files or the Kubernetes API. A source only
/// collects objects and says when they may have changed; the configuration loop translates them, the same way
/// whatever the source.
/// </summary>
public interface IObjectSource : IAsyncDisposable
{
    /// <summary>
    /// True once the source holds a complete view. Manifest files always do; the API does once every kind has
    /// been listed, so that routes are never published before their Services and endpoints are known.
    /// </summary>
    bool Complete { get; }

    /// <summary>Begins watching for changes. Objects are readable with <see cref="Load"/> from then on.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>The objects now, with every diagnostic about reading them.</summary>
    ObjectSnapshot Load();

    /// <summary>Completes when something may have changed since the last <see cref="Load"/>; bursts are coalesced.</summary>
    Task WaitForChangeAsync(CancellationToken cancellationToken);

    /// <summary>What the source is doing, for <c>/readyz</c>.</summary>
    SourceReadiness Readiness { get; }
}
