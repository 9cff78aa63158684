using Passerelle.Kubernetes.Files;

namespace Passerelle.Kubernetes.Sources;

/// <summary>Manifest files and folders, watched: <see cref="ManifestFiles"/> read through <see cref="ManifestWatcher"/>.</summary>
public sealed class ManifestSource(ManifestFiles files) : IObjectSource
{
    private ManifestWatcher? _watcher;

    public bool Complete => true;

    public SourceReadiness Readiness => new("manifests", true, $"serving the manifests of {string.Join(", ", files.Paths)}");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _watcher ??= new ManifestWatcher(files.Paths);
        return Task.CompletedTask;
    }

    public ObjectSnapshot Load() => files.Load();

    public Task WaitForChangeAsync(CancellationToken cancellationToken) =>
        (_watcher ?? throw new InvalidOperationException("the manifest source has not been started")).WaitForChangeAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        _watcher?.Dispose();
        return ValueTask.CompletedTask;
    }
}
