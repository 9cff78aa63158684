using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Api;

/// <summary>What a reflector tells its owner.</summary>
internal interface IReflectorOwner
{
    /// <summary>Objects changed.</summary>
    void Changed();

    /// <summary>A list succeeded: the reflector is synced.</summary>
    void Listed(Reflector reflector);

    /// <summary>A list or watch failed and will be retried after a delay.</summary>
    void Failing(Reflector reflector, Exception error);
}

/// <summary>One change applied to a reflector's objects, for tests that check nothing is lost or applied twice.</summary>
internal readonly record struct AppliedChange(string Kind, string Type, string? Namespace, string Name, string? ResourceVersion);

/// <summary>
/// Keeps the objects of one kind in one scope in step with the API server, as client-go's reflector does:
/// list (in pages), then watch from the list's resourceVersion, following every event and bookmark. A watch
/// that ends is resumed from the last resourceVersion seen; one answered with 410 Gone (the version fell out
/// of the server's window) is replaced by a new list, diffed against what was held so that deletions made
/// meanwhile are seen. A failure is retried with exponential backoff and jitter, and recovered through a new
/// list, which both proves the API is back and catches up on everything missed. The objects held are never
/// dropped because the API is unreachable: the gateway goes on serving them.
/// </summary>
internal sealed partial class Reflector
{
    private static readonly TimeSpan StableWatch = TimeSpan.FromSeconds(1);

    private readonly WatchedKind _kind;
    private readonly ApiScope _scope;
    private readonly IKubernetes _client;
    private readonly KubernetesApiOptions _options;
    private readonly IReflectorOwner _owner;
    private readonly RetryDelay _delay;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private Dictionary<(string? Namespace, string Name), Entry> _objects = [];
    private Dictionary<(string? Namespace, string Name), UnreadableItem> _unreadable = [];
    private string _state = "syncing";
    private DateTimeOffset _since = DateTimeOffset.UtcNow;
    private DateTimeOffset? _lastList;
    private string? _lastError;
    private string? _resourceVersion;
    private int _failures;
    private int _delivered;

    public Reflector(WatchedKind kind, ApiScope scope, IKubernetes client, KubernetesApiOptions options, IReflectorOwner owner, ILogger logger)
    {
        _kind = kind;
        _scope = scope;
        _client = client;
        _options = options;
        _owner = owner;
        _logger = logger;
        _delay = new RetryDelay(options.RetryDelay, options.MaxRetryDelay);
    }

    public WatchedKind Kind => _kind;

    public ApiScope Scope => _scope;

    /// <summary>Called for every change applied, from the reflector's loop; tests only.</summary>
    public Action<AppliedChange>? Applied { get; set; }

    public bool Synced
    {
        get
        {
            lock (_lock)
            {
                return _lastList is not null;
            }
        }
    }

    public ReflectorStatus Status
    {
        get
        {
            lock (_lock)
            {
                return new ReflectorStatus(_kind.Kind, _scope.Namespace, _state, _since, _objects.Count, _resourceVersion, _lastList, _lastError);
            }
        }
    }

    /// <summary>Adds the objects held, and a diagnostic for each object that could not be read, to the lists given.</summary>
    public void CopyTo(List<SourcedObject> objects, List<Diagnostic> diagnostics)
    {
        lock (_lock)
        {
            foreach (var entry in _objects.Values)
            {
                objects.Add(entry.Source);
            }

            foreach (var (key, item) in _unreadable)
            {
                var kept = _objects.ContainsKey(key) ? "its last readable version is kept" : "it is left out";
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error,
                    $"cannot be read from the Kubernetes API ({item.Error}); {kept}", new ObjectRef(_kind.Kind, key.Namespace, key.Name)));
            }
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        string? resourceVersion = null;
        var quickCloses = 0;
        while (!stop.IsCancellationRequested)
        {
            var watchStarted = 0L;
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(stop).ConfigureAwait(false);
                    _failures = 0;
                    _owner.Listed(this);
                }

                watchStarted = Stopwatch.GetTimestamp();
                var (end, delivered, lastVersion) = await WatchAsync(resourceVersion, stop).ConfigureAwait(false);
                resourceVersion = lastVersion;
                switch (end)
                {
                    case WatchEnd.Gone or WatchEnd.Unreadable:
                        if (end == WatchEnd.Gone)
                        {
                            Log.Expired(_logger, _kind.Kind, Where, resourceVersion);
                        }

                        resourceVersion = null;

                        // A server that expires even the version it just listed at must not make the gateway spin.
                        if (delivered == 0 && ++quickCloses > 1)
                        {
                            await Task.Delay(_delay.For(quickCloses - 1), stop).ConfigureAwait(false);
                        }

                        break;
                    case WatchEnd.Closed when delivered == 0 && Stopwatch.GetElapsedTime(watchStarted) < StableWatch:
                        // A server or proxy that closes watches at once must not make the gateway spin.
                        await Task.Delay(_delay.For(++quickCloses), stop).ConfigureAwait(false);
                        break;
                    default:
                        quickCloses = 0;
                        break;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (resourceVersion is not null && IsGone(e))
            {
                Log.Expired(_logger, _kind.Kind, Where, resourceVersion);
                resourceVersion = null;
            }
            catch (Exception e) when (resourceVersion is not null && watchStarted != 0 && !IsConnectFailure(e)
                && (_delivered > 0 || Stopwatch.GetElapsedTime(watchStarted) >= StableWatch))
            {
                // A watch that ran and then broke (an API server restarting, a load balancer's idle timeout) is
                // resumed at once from the last event it delivered; only a watch that cannot even start is a failure.
                Log.WatchDropped(_logger, _kind.Kind, Where, e.Message);
                resourceVersion = LastVersion ?? resourceVersion;
            }
            catch (Exception e)
            {
                _failures++;
                resourceVersion = null;
                lock (_lock)
                {
                    if (_state != "failing")
                    {
                        _state = "failing";
                        _since = DateTimeOffset.UtcNow;
                    }

                    _lastError = Describe(e);
                }

                _owner.Failing(this, e);
                try
                {
                    await Task.Delay(_delay.For(_failures), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The reason of a failure in one line, as a user reads it (no stack, no response body beyond the API's message).</summary>
    public static string Describe(Exception e) => e switch
    {
        HttpOperationException h => $"{(int)h.Response.StatusCode} {h.Response.StatusCode}" + (ApiMessage(h) is { } m ? $": {m}" : ""),
        KubernetesException k => $"{k.Status?.Code} {k.Status?.Reason}: {k.Status?.Message}",
        TimeoutException or TaskCanceledException => "no answer within the timeout",
        HttpRequestException { InnerException: { } inner } => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };

    /// <summary>The resourceVersion of the last list, event or bookmark applied.</summary>
    private string? LastVersion
    {
        get
        {
            lock (_lock)
            {
                return _resourceVersion;
            }
        }
    }

    private string Where => _scope.Namespace is null ? "all namespaces" : $"namespace {_scope.Namespace}";

    private async Task<string> ListAsync(CancellationToken stop)
    {
        var items = new List<IKubernetesObject<V1ObjectMeta>>();
        var unreadable = new List<UnreadableItem>();
        string? resourceVersion = null;
        string? next = null;
        do
        {
            var page = await _kind.ListAsync(_client, _scope, next, _options.PageSize, stop).ConfigureAwait(false);
            items.AddRange(page.Items);
            unreadable.AddRange(page.Unreadable);

            // The first page's version is the list's: later pages are served from the same snapshot.
            resourceVersion ??= page.ResourceVersion;
            next = page.Continue;
        }
        while (!string.IsNullOrEmpty(next));

        var (added, modified, deleted) = Replace(items, unreadable, resourceVersion);
        Log.Listed(_logger, _kind.Kind, Where, items.Count, resourceVersion, added, modified, deleted);
        return resourceVersion ?? "";
    }

    private async Task<(WatchEnd End, int Delivered, string ResourceVersion)> WatchAsync(string resourceVersion, CancellationToken stop)
    {
        // As client-go: between one and two times the configured timeout, so that replicas spread their reconnects.
        var timeoutSeconds = (int)(_options.WatchTimeout.TotalSeconds * (1 + Random.Shared.NextDouble()));
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(stop);

        // The server closes the watch after timeoutSeconds; one silent well past that is a broken connection.
        watch.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds) + _options.RequestTimeout);
        var end = WatchEnd.Closed;
        Exception? problem = null;
        _delivered = 0;

        void OnError(Exception e)
        {
            if (IsGone(e))
            {
                end = WatchEnd.Gone;
            }
            else if (e is JsonException)
            {
                // The event's object cannot be decoded and its name is unknown: a new list reads it item by item
                // and names it, and the watch resumes after it.
                Log.UnreadableEvent(_logger, _kind.Kind, Where, e.Message);
                end = WatchEnd.Unreadable;
            }
            else
            {
                problem = e;
            }

            watch.Cancel();
        }

        try
        {
            await foreach (var (type, item) in _kind.Watch(_client, _scope, resourceVersion, timeoutSeconds, OnError, watch.Token).ConfigureAwait(false))
            {
                _delivered++;
                _failures = 0;
                resourceVersion = item.Metadata?.ResourceVersion ?? resourceVersion;
                Apply(type, item, resourceVersion);
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            if (end == WatchEnd.Closed && problem is null)
            {
                throw new TimeoutException($"the {_kind.Kind} watch stayed silent past its timeout");
            }
        }
        catch (EndOfStreamException) when (_delivered == 0)
        {
            // The client reads a watch's first line before returning it: a watch that timed out without any event
            // ends here, which is a normal end.
        }

        if (problem is not null)
        {
            ExceptionDispatchInfo.Throw(problem);
        }

        return (end, _delivered, resourceVersion);
    }

    private void Apply(WatchEventType type, IKubernetesObject<V1ObjectMeta> item, string resourceVersion)
    {
        if (type == WatchEventType.Bookmark)
        {
            lock (_lock)
            {
                _resourceVersion = resourceVersion;
            }

            return;
        }

        var key = (item.Metadata?.NamespaceProperty, item.Metadata?.Name ?? "");
        var changed = false;
        lock (_lock)
        {
            _resourceVersion = resourceVersion;
            changed |= _unreadable.Remove(key);
            if (type == WatchEventType.Deleted)
            {
                changed |= _objects.Remove(key);
            }
            else if (type is WatchEventType.Added or WatchEventType.Modified)
            {
                var entry = Entry.Of(_kind.Normalise(item));
                changed |= !_objects.TryGetValue(key, out var held) || !held.SameAs(entry);
                _objects[key] = entry;
            }
        }

        Applied?.Invoke(new AppliedChange(_kind.Kind, type.ToString(), key.Item1, key.Item2, item.Metadata?.ResourceVersion));
        if (changed)
        {
            _owner.Changed();
        }
    }

    private (int Added, int Modified, int Deleted) Replace(List<IKubernetesObject<V1ObjectMeta>> items, List<UnreadableItem> unreadable, string? resourceVersion)
    {
        int added = 0, modified = 0, deleted;
        var changes = new List<AppliedChange>();
        lock (_lock)
        {
            var next = new Dictionary<(string? Namespace, string Name), Entry>(items.Count);
            foreach (var item in items)
            {
                var entry = Entry.Of(_kind.Normalise(item));
                var key = (item.Metadata?.NamespaceProperty, item.Metadata?.Name ?? "");
                next[key] = entry;
                if (!_objects.TryGetValue(key, out var held))
                {
                    added++;
                    changes.Add(new AppliedChange(_kind.Kind, "Listed:Added", key.Item1, key.Item2, item.Metadata?.ResourceVersion));
                }
                else if (!held.SameAs(entry))
                {
                    modified++;
                    changes.Add(new AppliedChange(_kind.Kind, "Listed:Modified", key.Item1, key.Item2, item.Metadata?.ResourceVersion));
                }
            }

            var nextUnreadable = new Dictionary<(string? Namespace, string Name), UnreadableItem>();
            foreach (var item in unreadable)
            {
                var key = (_kind.Namespaced ? item.Namespace : null, item.Name);
                nextUnreadable[key] = item;

                // Last good wins, as for a manifest file that stops parsing: the version read before is kept.
                if (!next.ContainsKey(key) && _objects.TryGetValue(key, out var held))
                {
                    next[key] = held;
                }
            }

            foreach (var gone in _objects.Keys.Where(k => !next.ContainsKey(k)))
            {
                changes.Add(new AppliedChange(_kind.Kind, "Listed:Deleted", gone.Namespace, gone.Name, null));
            }

            deleted = _objects.Keys.Count(k => !next.ContainsKey(k));
            var unreadableChanged = nextUnreadable.Count != _unreadable.Count || nextUnreadable.Keys.Any(k => !_unreadable.ContainsKey(k));
            _objects = next;
            _unreadable = nextUnreadable;
            _resourceVersion = resourceVersion;
            _lastList = DateTimeOffset.UtcNow;
            _lastError = null;
            if (_state != "synced")
            {
                _state = "synced";
                _since = DateTimeOffset.UtcNow;
            }

            if (unreadableChanged)
            {
                modified++;
            }
        }

        foreach (var change in changes)
        {
            Applied?.Invoke(change);
        }

        if (added + modified + deleted > 0)
        {
            _owner.Changed();
        }

        return (added, modified, deleted);
    }

    private static bool IsGone(Exception e) => e switch
    {
        KubernetesException k => k.Status?.Code == (int)HttpStatusCode.Gone,
        HttpOperationException h => h.Response?.StatusCode == HttpStatusCode.Gone,
        _ => false,
    };

    private static bool IsConnectFailure(Exception e) =>
        e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }
        or HttpOperationException or KubernetesException or TimeoutException;

    private static string? ApiMessage(HttpOperationException e)
    {
        try
        {
            return string.IsNullOrEmpty(e.Response?.Content) ? null : KubernetesJson.Deserialize<V1Status>(e.Response.Content)?.Message;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private enum WatchEnd
    {
        /// <summary>The server ended the watch (its timeout): resume from the last resourceVersion.</summary>
        Closed,

        /// <summary>410 Gone: the resourceVersion is too old; list again.</summary>
        Gone,

        /// <summary>An event could not be decoded: list again, item by item.</summary>
        Unreadable,
    }

    /// <summary>An object held, with a fingerprint of its content without its resourceVersion.</summary>
    private sealed class Entry
    {
        private readonly byte[] _fingerprint;

        private Entry(SourcedObject source, byte[] fingerprint)
        {
            Source = source;
            _fingerprint = fingerprint;
        }

        public SourcedObject Source { get; }

        /// <summary>
        /// Equal objects make equal fingerprints: an update that changes nothing the gateway keeps (a Pod's status,
        /// trimmed away; a relist of unchanged objects) is not a change and costs no translation.
        /// </summary>
        public bool SameAs(Entry other) => _fingerprint.AsSpan().SequenceEqual(other._fingerprint);

        public static Entry Of(IKubernetesObject<V1ObjectMeta> item)
        {
            var metadata = item.Metadata;
            var version = metadata?.ResourceVersion;
            if (metadata is not null)
            {
                metadata.ResourceVersion = null;
            }

            var text = KubernetesJson.Serialize(item);
            if (metadata is not null)
            {
                metadata.ResourceVersion = version;
            }

            return new Entry(new SourcedObject(item, null), SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, EventName = "KubernetesListed", Level = LogLevel.Debug,
            Message = "Listed {Count} {Kind} object(s) in {Scope} at resourceVersion {ResourceVersion}: {Added} added, {Modified} modified, {Deleted} deleted")]
        public static partial void Listed(ILogger logger, string kind, string scope, int count, string? resourceVersion, int added, int modified, int deleted);

        [LoggerMessage(EventId = 3011, EventName = "KubernetesWatchExpired", Level = LogLevel.Information,
            Message = "The {Kind} watch in {Scope} can no longer resume from resourceVersion {ResourceVersion} (410 Gone); listing again")]
        public static partial void Expired(ILogger logger, string kind, string scope, string? resourceVersion);

        [LoggerMessage(EventId = 3012, EventName = "KubernetesWatchDropped", Level = LogLevel.Debug,
            Message = "The {Kind} watch in {Scope} broke ({Reason}); resuming it")]
        public static partial void WatchDropped(ILogger logger, string kind, string scope, string reason);

        [LoggerMessage(EventId = 3013, EventName = "KubernetesEventUnreadable", Level = LogLevel.Warning,
            Message = "A {Kind} watch event in {Scope} cannot be read ({Error}); listing again to find the object")]
        public static partial void UnreadableEvent(ILogger logger, string kind, string scope, string error);
    }
}
