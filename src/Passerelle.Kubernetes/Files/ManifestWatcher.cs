using System.Threading.Channels;

namespace Passerelle.Kubernetes.Files;

/// <summary>
/// Signals that manifest files may have changed. Uses inotify (FileSystemWatcher) on each named folder, or on the
/// folder of each named file so that editors that save by rename are seen, and also polls at
/// <see cref="PollInterval"/> in case a notification is lost (network file systems, ConfigMap symlink swaps).
/// Signals are coalesced: a burst of writes gives one reload.
/// </summary>
public sealed class ManifestWatcher : IDisposable
{
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, (long Length, DateTime Written)> _stats = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<string> _paths;

    public ManifestWatcher(IReadOnlyList<string> paths)
    {
        _paths = paths;
        foreach (var folder in paths.Select(FolderOf).Distinct(StringComparer.Ordinal))
        {
            if (!Directory.Exists(folder))
            {
                continue;
            }

            var watcher = new FileSystemWatcher(folder)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            watcher.Changed += (_, _) => Signal();
            watcher.Created += (_, _) => Signal();
            watcher.Deleted += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            watcher.Error += (_, _) => Signal();
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }

        PollStats();
    }

    /// <summary>How often file sizes and times are compared as a fallback for lost notifications. Default 2 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long to wait after a first notification for the rest of a burst. Default 10 ms: an editor's save or
    /// an atomic rename is one or two events, and endpoint changes must reach routing within 100 ms.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Completes when something may have changed; the caller then reloads.</summary>
    public async Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(PollInterval);
            try
            {
                await _signals.Reader.ReadAsync(poll.Token);
                break;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (PollStats())
                {
                    break;
                }
            }
        }

        await Task.Delay(Settle, cancellationToken);
        _signals.Reader.TryRead(out _);
        PollStats();
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
    }

    private void Signal() => _signals.Writer.TryWrite(true);

    /// <summary>Records sizes and write times; true when they differ from the last look.</summary>
    private bool PollStats()
    {
        var changed = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in _paths)
        {
            string[] files;
            try
            {
                files = Directory.Exists(path) ? Directory.GetFiles(path) : [path];
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var file in files)
            {
                var info = new FileInfo(file);
                if (!info.Exists)
                {
                    continue;
                }

                seen.Add(file);
                var stat = (info.Length, info.LastWriteTimeUtc);
                if (!_stats.TryGetValue(file, out var before) || before != stat)
                {
                    _stats[file] = stat;
                    changed = true;
                }
            }
        }

        foreach (var gone in _stats.Keys.Where(f => !seen.Contains(f)).ToList())
        {
            _stats.Remove(gone);
            changed = true;
        }

        return changed;
    }

    private static string FolderOf(string path) =>
        Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
}
